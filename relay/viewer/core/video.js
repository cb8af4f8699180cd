/* ds-relay viewer: EncodedVideo (0x05) through WebCodecs
 *
 * The payload is `u8 codec`, `u8 reserved`, then one access unit in
 * decode order (SPEC §3); FLAG_KEYFRAME marks a unit a decoder can start
 * from, with the codec configuration in band. VideoPlayer turns the
 * units into VideoFrames with the browser's VideoDecoder: it derives the
 * codec string from the first keyframe (H.264: the SPS; VP9: the frame
 * header; AV1: the sequence header), asks isConfigSupported() once per
 * string, skips units until a keyframe (after a start, a seq gap, a
 * Keyframe or End frame, a decoder error, or a decode queue that grew
 * past its bound) and measures the decode time. FramePresenter shows the
 * frames: by timestamp against the audio clock while sound plays, else
 * as they come. Every VideoFrame is closed by whoever holds it last.
 *
 * The codec string parsers at the top are pure (node imports them).
 */

export const CODEC = Object.freeze({
  H264: 1,
  H265: 2,
  VP8: 3,
  VP9: 4,
  AV1: 5,
});

const CODEC_NAMES = { 1: 'H.264', 2: 'H.265', 3: 'VP8', 4: 'VP9', 5: 'AV1' };

export function codecName (codec) {
  return CODEC_NAMES[codec] || 'codec ' + codec;
}

/* a decode queue longer than this that has not gone down for
 * MAX_DECODE_LAG_MS: the decoder cannot keep up, drop to the next
 * keyframe. A burst (a late joiner's catch-up: the units since the
 * keyframe at once) goes down as it is decoded, however long that takes
 * (a software decoder on a busy machine: more than MAX_DECODE_LAG_MS for
 * a 2 s GOP), and is not dropped, or the joiner would wait for the next
 * keyframe; past MAX_DECODE_QUEUE_HARD units it is dropped at once. */
const MAX_DECODE_QUEUE = 6;
const MAX_DECODE_LAG_MS = 300;
const MAX_DECODE_QUEUE_HARD = 120;
/* units kept while isConfigSupported() answers */
const MAX_PENDING_UNITS = 120;

/* ---- codec strings (pure) ---- */

/* The NAL units of an Annex B access unit: [start, end) of each, after
 * its start code */
export function annexBUnits (bytes) {
  const units = [];
  let start = -1;
  let i = 0;
  const n = bytes.length;
  while (i + 2 < n) {
    if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1) {
      if (start >= 0) {
        let end = i;
        while (end > start && bytes[end - 1] === 0)
          end--;                /* the zero of a 4-byte start code */
        units.push([start, end]);
      }
      i += 3;
      start = i;
    } else {
      i++;
    }
  }
  if (start >= 0 && start < n)
    units.push([start, n]);
  return units;
}

/* The bytes of a NAL unit without its emulation prevention bytes */
function unescapeNal (bytes) {
  const out = [];
  let zeros = 0;
  for (const b of bytes) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    out.push(b);
  }
  return Uint8Array.from(out);
}

const hex2 = (v) => v.toString(16).toUpperCase().padStart(2, '0');

/** "avc1.PPCCLL" from the first SPS (NAL type 7) of an H.264 Annex B
 * access unit, or null without one */
export function h264CodecString (unit) {
  for (const [s, e] of annexBUnits(unit)) {
    if ((unit[s] & 0x1f) === 7 && e - s >= 4)
      return 'avc1.' + hex2(unit[s + 1]) + hex2(unit[s + 2]) + hex2(unit[s + 3]);
  }
  return null;
}

class BitReader {
  constructor (bytes) {
    this.bytes = bytes;
    this.pos = 0;
  }

  bits (n) {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.bytes[this.pos >> 3];
      if (byte === undefined)
        throw new RangeError('out of bits');
      v = v * 2 + ((byte >> (7 - (this.pos & 7))) & 1);
      this.pos++;
    }
    return v;
  }
}

/** "hev1.P.C.TLL.B0" from the first SPS (NAL type 33) of an H.265 Annex B
 * access unit, or a generic Main profile string without one */
export function h265CodecString (unit) {
  for (const [s, e] of annexBUnits(unit)) {
    if (((unit[s] >> 1) & 0x3f) !== 33 || e - s < 16)
      continue;
    try {
      const r = new BitReader(unescapeNal(unit.subarray(s + 2, e)));
      r.bits(4);                /* sps_video_parameter_set_id */
      r.bits(3);                /* sps_max_sub_layers_minus1 */
      r.bits(1);                /* sps_temporal_id_nesting_flag */
      const space = r.bits(2);
      const tier = r.bits(1);
      const profile = r.bits(5);
      const compat = r.bits(32);
      r.bits(32);               /* constraint flags (48 bits) */
      r.bits(16);
      const level = r.bits(8);
      let reversed = 0;
      for (let i = 0; i < 32; i++)
        if (compat & (2 ** i))
          reversed += 2 ** (31 - i);
      return 'hev1.' + (['', 'A', 'B', 'C'][space]) + profile + '.' +
          reversed.toString(16).toUpperCase() + '.' + (tier ? 'H' : 'L') + level + '.B0';
    } catch (e) {
      break;
    }
  }
  return 'hev1.1.6.L93.B0';
}

/** "vp09.PP.10.08" with the profile of a VP9 frame header */
export function vp9CodecString (unit) {
  let profile = 0;
  if (unit.length > 0 && (unit[0] >> 6) === 2)
    profile = ((unit[0] >> 5) & 1) | (((unit[0] >> 4) & 1) << 1);
  return 'vp09.0' + profile + '.10.08';
}

function leb128 (bytes, pos) {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    const b = bytes[pos + i];
    if (b === undefined)
      return null;
    value += (b & 0x7f) * 2 ** (7 * i);
    if (!(b & 0x80))
      return { value, size: i + 1 };
  }
  return null;
}

/** "av01.P.LLT.08" from the sequence header OBU of an AV1 temporal unit
 * (low-overhead format), or "av01.0.04M.08" without one */
export function av1CodecString (unit) {
  const fallback = 'av01.0.04M.08';
  let pos = 0;
  while (pos < unit.length) {
    const header = unit[pos];
    const type = (header >> 3) & 0xf;
    const extension = (header >> 2) & 1;
    const hasSize = (header >> 1) & 1;
    let p = pos + 1 + extension;
    let size = unit.length - p;
    if (hasSize) {
      const l = leb128(unit, p);
      if (!l)
        return fallback;
      p += l.size;
      size = l.value;
    }
    if (type === 1) {
      try {
        const r = new BitReader(unit.subarray(p, p + size));
        const profile = r.bits(3);
        r.bits(1);              /* still_picture */
        const reduced = r.bits(1);
        let level = 0;
        let tier = 0;
        if (reduced) {
          level = r.bits(5);
        } else {
          if (r.bits(1))        /* timing_info_present_flag */
            return 'av01.' + profile + '.04M.08';
          r.bits(1);            /* initial_display_delay_present_flag */
          r.bits(5);            /* operating_points_cnt_minus_1 */
          r.bits(12);           /* operating_point_idc[0] */
          level = r.bits(5);
          if (level > 7)
            tier = r.bits(1);
        }
        return 'av01.' + profile + '.' + String(level).padStart(2, '0') +
            (tier ? 'H' : 'M') + '.08';
      } catch (e) {
        return fallback;
      }
    }
    if (!hasSize)
      break;
    pos = p + size;
  }
  return fallback;
}

/** The WebCodecs codec string of a keyframe of @codec, or null for a
 * codec byte this viewer does not know */
export function codecString (codec, unit) {
  switch (codec) {
    case CODEC.H264:
      return h264CodecString(unit);
    case CODEC.H265:
      return h265CodecString(unit);
    case CODEC.VP8:
      return 'vp8';
    case CODEC.VP9:
      return vp9CodecString(unit);
    case CODEC.AV1:
      return av1CodecString(unit);
    default:
      return null;
  }
}

/* ---- decoding ---- */

export class VideoPlayer {
  /**
   * @stats: counters, updated in place (see viewer.js state.video);
   * @onFrame(VideoFrame): a decoded frame, now the callee's to close;
   * @onUnsupported(text): the stream cannot be decoded here (said once
   * per codec string); @onNeedKeyframe(): units are skipped until the
   * next keyframe (ask the source for one)
   */
  constructor (stats, { onFrame, onUnsupported, onNeedKeyframe }) {
    this.stats = stats;
    this.onFrame = onFrame;
    this.onUnsupported = onUnsupported;
    this.onNeedKeyframe = onNeedKeyframe;
    this.decoder = null;
    this.config = null;         /* the decoder's configuration */
    this.support = new Map();   /* codec string -> true/false/Promise */
    this.pending = null;        /* units waiting for isConfigSupported() */
    this.waitingForKeyframe = true;
    this.decodeStart = new Map(); /* timestamp (µs) -> performance.now() */
    this.offsetMin = null;      /* ms: arrival (performance.now()) minus timestamp, lowest */
    this.offsetAt = 0;          /* when it was last updated */
    this.backlogSince = 0;      /* when the decode queue went over its bound */
    this.backlogSize = 0;       /* ... or last went down: its length then */
    this.codec = 0;
    this.unsupported = false;   /* the browser said it cannot decode this stream */
  }

  /** Forgets the decoder's state: what follows starts at a keyframe */
  reset (why) {
    if (this.pending) {
      this.stats.dropped += this.pending.length;
      this.pending = null;
    }
    if (this.decoder && this.decoder.state === 'configured') {
      this.stats.dropped += this.decoder.decodeQueueSize;
      this.decoder.reset();     /* unconfigured: configured again at the keyframe */
    }
    this.config = null;
    this.pendingConfig = null;
    this.decodeStart.clear();
    this.offsetMin = null;
    this.backlogSince = 0;
    if (!this.waitingForKeyframe && why)
      this.stats.resets++;
    this.waitingForKeyframe = true;
  }

  /** One EncodedVideo unit: @codec (the payload's first byte),
   * @keyframe (FLAG_KEYFRAME), @unit (the access unit), @timestamp (ms),
   * @width and @height (the header's coded size) */
  push ({ codec, keyframe, unit, timestamp, width, height }) {
    const stats = this.stats;
    stats.units++;
    stats.bytes += unit.length + 2;
    if (codec !== this.codec) {
      this.reset(this.codec ? 'codec' : null);
      this.codec = codec;
      this.unsupported = false;
      stats.codec = codecName(codec);
      stats.codecString = null;
      stats.cannotDecode = null;
    }
    if (this.waitingForKeyframe && !keyframe) {
      stats.skipped++;          /* a delta without its keyframe */
      return;
    }
    if (typeof VideoDecoder === 'undefined') {
      this.unsupported = true;
      stats.unsupported++;
      this.onUnsupported('no-webcodecs', codecName(codec), null);
      return;
    }
    const chunk = { type: keyframe ? 'key' : 'delta', timestamp: timestamp * 1000, data: unit };
    if (keyframe) {
      const str = codecString(codec, unit);
      if (!str) {
        this.unsupported = true;
        stats.unsupported++;
        this.onUnsupported('unknown', codecName(codec), null);
        return;
      }
      stats.codecString = str;
      const config = { codec: str, optimizeForLatency: true };
      if (width && height) {
        config.codedWidth = width;
        config.codedHeight = height;
      }
      this.waitingForKeyframe = false;
      if (this.pending && this.pendingConfig && this.pendingConfig.codec === str) {
        /* still asking about this codec: what came before this keyframe
         * is not needed any more */
        stats.dropped += this.pending.length;
        this.pending.splice(0, this.pending.length, chunk);
        return;
      }
      if (!this.config || this.config.codec !== str) {
        this.reset(null);
        this.waitingForKeyframe = false;
        this.startConfig(config, chunk);
        return;
      }
    }
    if (this.pending) {
      if (this.pending.length >= MAX_PENDING_UNITS) {
        this.reset('pending');
        this.onNeedKeyframe();
        return;
      }
      this.pending.push(chunk);
      return;
    }
    if (!this.decoder || this.decoder.state !== 'configured') {
      stats.skipped++;
      this.waitingForKeyframe = true;
      return;
    }
    this.decode(chunk);
  }

  /* Configures for @config once the browser said it can decode it; the
   * units that come meanwhile wait in this.pending */
  startConfig (config, first) {
    const known = this.support.get(config.codec);
    this.unsupported = known === false;
    if (known === false) {
      this.stats.unsupported++;
      this.waitingForKeyframe = true;
      return;
    }
    if (known === true) {
      this.configure(config);
      this.decode(first);
      return;
    }
    const pending = [first];
    this.pending = pending;
    this.pendingConfig = config;
    const check = VideoDecoder.isConfigSupported(config).then((r) => !!r.supported, () => false);
    check.then((supported) => {
      this.support.set(config.codec, supported);
      if (this.pending !== pending)
        return;                 /* reset meanwhile */
      this.pending = null;
      this.pendingConfig = null;
      this.unsupported = !supported;
      if (!supported) {
        this.stats.unsupported++;
        this.waitingForKeyframe = true;
        this.onUnsupported('unsupported', codecName(this.codec), config.codec);
        return;
      }
      this.configure(config);
      for (const chunk of pending)
        this.decode(chunk);
    });
  }

  configure (config) {
    if (!this.decoder || this.decoder.state === 'closed') {
      this.decoder = new VideoDecoder({
        output: (frame) => this.output(frame),
        error: (e) => this.error(e),
      });
    }
    this.decoder.configure(config);
    this.config = config;
  }

  decode (init) {
    const d = this.decoder;
    if (!d || d.state !== 'configured') {
      this.stats.skipped++;
      return;
    }
    const now = performance.now();
    const queued = d.decodeQueueSize;
    if (queued <= MAX_DECODE_QUEUE) {
      this.backlogSince = 0;
    } else if (!this.backlogSince || queued < this.backlogSize) {
      /* a backlog, or one the decoder works down: timed from here */
      this.backlogSince = now;
      this.backlogSize = queued;
    }
    if (d.decodeQueueSize > MAX_DECODE_QUEUE_HARD ||
        (this.backlogSince && now - this.backlogSince > MAX_DECODE_LAG_MS)) {
      /* the decoder falls behind: what is queued goes, and so does
       * everything up to the next keyframe */
      this.stats.queueDrops++;
      const config = this.config;
      this.reset('queue');
      if (init.type !== 'key') {
        this.stats.dropped++;
        this.onNeedKeyframe();
        return;
      }
      this.waitingForKeyframe = false;
      this.configure(config);
    }
    this.decodeStart.set(init.timestamp, now);
    /* the lowest arrival-minus-timestamp: a live unit's. A keyframe
     * starts it again (a new stream, timestamps that went back); it may
     * rise by 1 ms a second (a source clock slower than ours) */
    const offset = now - init.timestamp / 1000;
    if (this.offsetMin === null || init.type === 'key')
      this.offsetMin = offset;
    else
      this.offsetMin = Math.min(this.offsetMin + (now - this.offsetAt) * 0.001, offset);
    this.offsetAt = now;
    try {
      d.decode(new EncodedVideoChunk(init));
    } catch (e) {
      this.error(e);
    }
  }

  output (frame) {
    const stats = this.stats;
    const t0 = this.decodeStart.get(frame.timestamp);
    if (t0 !== undefined) {
      this.decodeStart.delete(frame.timestamp);
      const ms = performance.now() - t0;
      stats.decodeMs = stats.decodeMs === null ? ms : stats.decodeMs * 0.9 + ms * 0.1;
    }
    /* frames come out in decode order: units before this one that
     * have not come out were dropped by the decoder */
    for (const ts of this.decodeStart.keys())
      if (ts <= frame.timestamp)
        this.decodeStart.delete(ts);
    if (this.decodeStart.size > 64)
      this.decodeStart.clear();
    stats.decoded++;
    this.onFrame(frame);
  }

  /** How late (ms) the frame of @timestamp (µs) comes out against the
   * live stream: now, less the time a live unit of that timestamp
   * arrived (its timestamp plus the lowest arrival-minus-timestamp seen,
   * which the live units have). A joiner's catch-up burst: up to the
   * GOP's length, whether or not its units have all reached the page
   * yet; a decoder that keeps up: its decoding time */
  behind (timestamp) {
    if (this.offsetMin === null)
      return 0;
    return Math.max(0, performance.now() - (timestamp / 1000 + this.offsetMin));
  }

  error (e) {
    this.stats.errors++;
    this.stats.lastError = String(e && e.message ? e.message : e);
    this.decoder = null;        /* closed by the error */
    this.config = null;
    this.pending = null;
    this.decodeStart.clear();
    this.offsetMin = null;
    this.waitingForKeyframe = true;
    this.onNeedKeyframe();
  }

  close () {
    this.reset(null);
    if (this.decoder && this.decoder.state !== 'closed')
      this.decoder.close();
    this.decoder = null;
  }
}

/* ---- presenting ---- */

/* a frame this far from the audio clock is not on that clock (another
 * sender, a restarted stream, stalled sound): shown as it comes */
const MAX_CLOCK_DISTANCE_MS = 1000;
/* frames held at most, waiting for their time */
const MAX_HELD_FRAMES = 30;
/* while a joiner's catch-up burst is decoded, its newest picture is
 * shown at most this often (and within this long after the burst
 * stalls) */
const BURST_DRAW_MS = 200;
/* a burst: the decoder outputs frames more than BURST_START_MS later
 * than live ones would come (VideoPlayer.behind()), until they are less
 * than BURST_END_MS late (a decoder that always holds a frame or two,
 * or a few at 60 fps, is not in a burst) */
const BURST_START_MS = 150;
const BURST_END_MS = 75;

export class FramePresenter {
  /**
   * @draw(VideoFrame): shows a frame (does not close it); @clock(): the
   * stream timestamp (ms) the listener hears now, or null without sound;
   * @stats: { presented, late, held, synced, unsynced }; @onPresented(ts,
   * clock): after each frame shown (clock null when not synced);
   * @behind(frame): how late (ms) this frame comes against the live
   * stream (VideoPlayer.behind(): a joiner's catch-up burst), optional
   */
  constructor ({ draw, clock, stats, onPresented, behind }) {
    this.draw = draw;
    this.clock = clock;
    this.stats = stats;
    this.onPresented = onPresented;
    this.behind = behind || (() => 0);
    this.held = [];
    this.ticking = false;
    this.burst = false;         /* what is held is a burst's, not due ones */
    this.burstTimer = 0;
  }

  /* BURST_DRAW_MS into a burst: its newest frame so far is shown */
  burstTick () {
    this.burstTimer = 0;
    if (!this.burst)
      return;
    const last = this.held.pop();
    this.held = [];
    if (!last) {
      this.burst = false;       /* nothing since: the burst is over */
      return;
    }
    this.burstTimer = setTimeout(() => this.burstTick(), BURST_DRAW_MS);
    this.present(last, null);
  }

  endBurst () {
    this.burst = false;
    if (this.burstTimer)
      clearTimeout(this.burstTimer);
    this.burstTimer = 0;
  }

  push (frame) {
    const c = this.clock();
    const ts = frame.timestamp / 1000;
    const unsynced = c === null || Math.abs(ts - c) > MAX_CLOCK_DISTANCE_MS;
    const behind = this.behind(frame);
    if ((unsynced || ts <= c) &&
        behind > (this.burst ? BURST_END_MS : BURST_START_MS)) {
      /* a burst (the units since the keyframe a joiner decodes): newer
       * frames follow at once, so only the newest is kept and nothing
       * is drawn until the burst ends. Drawing takes the page's main
       * thread (20-60 ms a 1080p picture without a GPU), and a
       * browser's decoder is handed each queued unit from that thread
       * (Chromium: one at a time): frames drawn during the burst
       * stall its decoding (docs/benchmarks.md, issue 14). The newest
       * is shown every BURST_DRAW_MS meanwhile, and within that long
       * after the burst stalls (the decoder dropped its last units).
       * With sound, the frames due or late are a burst's too. */
      if (!this.burst) {
        this.flush();
        this.burst = true;
        this.burstTimer = setTimeout(() => this.burstTick(), BURST_DRAW_MS);
      }
      for (const f of this.held) {
        this.stats.late++;
        f.close();
      }
      this.held = [frame];
      return;
    }
    if (unsynced) {
      /* no sound to follow: every frame as it comes, after the held ones
       * (a burst's held ones are older than this one: not drawn) */
      if (this.burst)
        this.clear(true);
      else
        this.flush();
      this.present(frame, null);
      return;
    }
    if (this.burst)
      this.flush();
    if (ts > c)
      this.stats.held++;        /* decoded before its time: it waits */
    this.held.push(frame);
    if (this.held.length > MAX_HELD_FRAMES)
      this.present(this.held.shift(), null);
    this.schedule();
  }

  schedule () {
    if (this.ticking || this.burst || this.held.length === 0)
      return;
    this.ticking = true;
    const tick = () => {
      this.ticking = false;
      this.tick();
      this.schedule();
    };
    if (document.hidden)
      setTimeout(tick, 10);
    else
      requestAnimationFrame(tick);
  }

  tick () {
    if (this.burst)
      return;                   /* burstTick() shows a burst's frames */
    const c = this.clock();
    if (c === null) {
      this.flush();
      return;
    }
    /* the newest frame that is due is shown; due ones before it are late */
    let due = -1;
    for (let i = 0; i < this.held.length; i++)
      if (this.held[i].timestamp / 1000 <= c)
        due = i;
    if (due < 0) {
      const first = this.held[0];
      if (first && first.timestamp / 1000 - c > MAX_CLOCK_DISTANCE_MS)
        this.flush();
      return;
    }
    for (let i = 0; i < due; i++) {
      this.stats.late++;
      this.held[i].close();
    }
    const frame = this.held[due];
    this.held.splice(0, due + 1);
    this.present(frame, c);
  }

  present (frame, clock) {
    const ts = frame.timestamp / 1000;
    try {
      this.draw(frame);
    } finally {
      frame.close();
    }
    this.stats.presented++;
    if (clock === null)
      this.stats.unsynced++;
    else
      this.stats.synced++;
    this.onPresented(ts, clock);
  }

  /** Shows the held frames' newest now (the rest are late) */
  flush () {
    this.endBurst();
    if (this.held.length === 0)
      return;
    const last = this.held.pop();
    for (const f of this.held) {
      this.stats.late++;
      f.close();
    }
    this.held = [];
    this.present(last, null);
  }

  /** Drops what is held (a reset of the stream; @late: counted late) */
  clear (late = false) {
    for (const f of this.held) {
      if (late)
        this.stats.late++;
      f.close();
    }
    this.held = [];
    this.endBurst();
  }
}
