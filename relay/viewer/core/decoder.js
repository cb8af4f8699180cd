/* ds-relay viewer: a receiver's model of one ds-stream
 *
 * StreamDecoder takes the frames of a /stream/{channel} connection, one
 * message at a time, and keeps what a receiver holds: the picture (the
 * delta reference), the merged signal state, the schema, seq continuity
 * per seq stream and whether the stream ended. It decides, frame by
 * frame, what dsdepay decides (gst/dsstream/gstdsdepay.c,
 * gst_ds_depay_handle_frame() and the handlers it calls), so that the
 * shared vectors (tests/vectors) give the same results on both sides.
 *
 * Pure: no DOM, no WebSocket, no timers. The page (app/view.js) draws,
 * plays and asks for keyframes from the results push() returns.
 *
 * MotionDeltaPixels (core/motion.js): the moves of the reference, then
 * the run-length code XORed in place, as DeltaPixels; a table
 * ds_motion_parse_moves() would reject is malformed (before seq tracking
 * when the frame is not compressed, as dsdepay decides).
 *
 * FLAG_COMPRESSED payloads are zstd frames: the caller hands in the zstd
 * decoder (fzstd's decompress(), which ds-relay serves as
 * /vendor/fzstd.mjs and node imports from relay/viewer/node_modules);
 * without one they are 'unsupported', as in a relay built without it.
 */

import {
  HEADER_SIZE, FRAME, FLAG_INPUT, FLAG_KEYFRAME, FLAG_COMPRESSED,
  parseHeader, validateFrame, validateMotionPayload, sniffImage, SeqTracker, frameSeqStream, SEQ_STREAM,
} from './protocol.js';
import { rleDecodeXor } from './rle.js';
import { parseMoves, predictInPlace, tableSize, MAX_MOVES } from './motion.js';
import { mergeSignals, parseSignalObject } from './signals.js';
import { zstdInflate } from './zstd.js';

/* The most a run-length code may take: 3 bytes per picture byte
 * (DS_RLE_MAX_ENCODED_SIZE, gst-libs/ds/dsrle.h), the limit dsdepay puts
 * on a compressed delta's content too */
const RLE_MAX_EXPANSION = 3;

/* Types whose payload dsdepay would have to read to pass on: with
 * FLAG_COMPRESSED they are malformed (gst_ds_depay_can_decompress()) */
function canDecompress (type) {
  switch (type) {
    case FRAME.PIXELS:
    case FRAME.COMPRESSED_PIXELS:
    case FRAME.ENCODED_VIDEO:
    case FRAME.AUDIO_PCM:
    case FRAME.AUDIO_COMPRESSED:
    case FRAME.HAPTIC:
    case FRAME.SIGNAL_SYNC:
    case FRAME.SIGNAL_DIFF:
    case FRAME.SCHEMA_ANNOUNCE:
      return false;
    default:
      return true;
  }
}

/* Media frames: the first one after End starts a new stream */
function isMedia (type) {
  const id = frameSeqStream(type);
  return id === SEQ_STREAM.PICTURES || id === SEQ_STREAM.AUDIO || id === SEQ_STREAM.SIGNALS;
}

function isPicture (type) {
  return type === FRAME.PIXELS || type === FRAME.DELTA_PIXELS ||
      type === FRAME.MOTION_DELTA_PIXELS;
}

/* EncodedVideo codecs (ds_codec_is_known()): H.264, H.265, VP8, VP9, AV1 */
const KNOWN_CODECS = new Set([1, 2, 3, 4, 5]);

/* ds_encoded_video_parse(): the codec byte is known and the reserved
 * byte 0 (the length is validateFrame()'s) */
function encodedVideoError (payload) {
  if (!KNOWN_CODECS.has(payload[0]))
    return 'EncodedVideo with unknown codec ' + payload[0];
  if (payload[1] !== 0)
    return 'EncodedVideo with reserved byte ' + payload[1] + ' (must be 0)';
  return null;
}

export class StreamDecoder {
  /** @zstd: fzstd's decompress (Uint8Array -> Uint8Array), or null */
  constructor ({ zstd = null } = {}) {
    this.zstd = zstd;
    this.seq = new SeqTracker();
    this.reference = null;      /* Uint8Array, width*height*4 RGBA */
    this.width = 0;
    this.height = 0;
    this.waitingForKeyframe = true;
    /* DsEncodedVideoState: the keyframe units follow, with its codec and
     * size */
    this.encoded = { haveKeyframe: false, codec: 0, width: 0, height: 0 };
    this.signals = {};
    this.schema = null;
    this.ended = false;
    this.stats = {
      frames: 0,                /* frames taken (not Ping, not input) */
      malformed: 0,
      dropped: 0,               /* pictures not shown */
      gaps: 0,                  /* frames missing on the picture stream */
      compressed: 0,            /* zstd frames this decoder cannot read */
      inflated: 0,              /* zstd frames decompressed */
    };
  }

  /** A new connection: seq positions and the picture are forgotten (the
   * relay's catch-up starts with a keyframe); the signal state is kept
   * until the next SignalSync replaces it. */
  newConnection () {
    this.seq.reset();
    this.reference = null;
    this.waitingForKeyframe = true;
    this.encoded.haveKeyframe = false;
    this.ended = false;
  }

  /**
   * Takes one message: @bytes is an ArrayBuffer or a Uint8Array holding
   * exactly one frame. With @owned (an ArrayBuffer nobody else uses), a
   * Pixels picture is kept without a copy. Returns what happened:
   * { kind, header, missing, lost, error, ... } where kind is one of
   * malformed, ping, input, picture, dropped, unsupported, image, unit, audio,
   * signals, schema, haptic, keyframe, end, skipped; @lost is true when
   * the picture needs a keyframe from the source.
   */
  push (bytes, owned = false) {
    const u8 = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
    if (u8.length < HEADER_SIZE)
      return this.malformed(null, 'frame shorter than its header');
    const h = parseHeader(u8);
    if (h.payloadLen !== u8.length - HEADER_SIZE)
      return this.malformed(null, 'payload length is not the message length');
    const payload = u8.subarray(HEADER_SIZE);

    if (h.flags & FLAG_INPUT)
      return { kind: 'input', header: h };
    if (h.type === FRAME.PING)
      return { kind: 'ping', header: h };

    this.stats.frames++;
    let invalid = validateFrame(h);
    /* the move table is part of the checks (O(moves)), as in dsdepay */
    if (!invalid && h.type === FRAME.MOTION_DELTA_PIXELS && !(h.flags & FLAG_COMPRESSED))
      invalid = validateMotionPayload(h, payload);
    if (!invalid && h.type === FRAME.ENCODED_VIDEO)
      invalid = encodedVideoError(payload);
    if (invalid)
      return this.skipPicture(h, this.malformed(h, invalid));
    const compressed = (h.flags & FLAG_COMPRESSED) !== 0;
    if (compressed && !canDecompress(h.type)) {
      this.stats.compressed++;
      const r = this.skipPicture(h, this.malformed(h, 'FLAG_COMPRESSED on a type that cannot have it'));
      r.compressed = true;
      return r;
    }

    let newStream = false;
    if (this.ended && isMedia(h.type)) {
      this.ended = false;
      newStream = true;
    }
    const missing = this.seq.push(h);
    if (missing > 0 && frameSeqStream(h.type) === SEQ_STREAM.PICTURES)
      this.stats.gaps += missing;
    const decodable = this.pushEncoded(h, payload, missing);

    const r = this.handle(h, payload, missing, owned, compressed, decodable);
    r.header = h;
    r.missing = missing;
    r.newStream = newStream;
    return r;
  }

  /* ds_encoded_video_state_push(): whether an EncodedVideo unit follows
   * its keyframe and every unit since (false for other frames) */
  pushEncoded (h, payload, missing) {
    const e = this.encoded;
    if (h.type === FRAME.KEYFRAME || h.type === FRAME.END) {
      e.haveKeyframe = false;
      return false;
    }
    /* a lost picture frame may have been a unit */
    if (missing > 0 && frameSeqStream(h.type) === SEQ_STREAM.PICTURES)
      e.haveKeyframe = false;
    if (h.type !== FRAME.ENCODED_VIDEO)
      return false;
    if (h.flags & FLAG_KEYFRAME) {
      e.haveKeyframe = true;
      e.codec = payload[0];
      e.width = h.width;
      e.height = h.height;
      return true;
    }
    if (e.haveKeyframe && payload[0] === e.codec && h.width === e.width && h.height === e.height)
      return true;
    e.haveKeyframe = false;
    return false;
  }

  handle (h, payload, missing, owned, compressed, decodable) {
    switch (h.type) {
      case FRAME.PIXELS:
        return this.onPixels(h, payload, owned);
      case FRAME.DELTA_PIXELS:
      case FRAME.MOTION_DELTA_PIXELS:
        return this.onDelta(h, payload, missing, compressed);
      case FRAME.COMPRESSED_PIXELS: {
        const type = sniffImage(payload);
        if (!type)
          return this.malformed(h, 'CompressedPixels is neither PNG nor WebP');
        return { kind: 'image', type, payload };
      }
      case FRAME.ENCODED_VIDEO:
        /* decoded by the page (core/video.js, WebCodecs), from a
         * keyframe on: a unit without it is dropped, as by dsdepay */
        if (!decodable) {
          this.stats.dropped++;
          return { kind: 'dropped', lost: true, error: 'access unit without its keyframe' };
        }
        return {
          kind: 'unit',
          codec: payload[0],
          keyframe: (h.flags & FLAG_KEYFRAME) !== 0,
          unit: payload.subarray(2),
        };
      case FRAME.AUDIO_PCM:
      case FRAME.AUDIO_COMPRESSED:
        return {
          kind: 'audio',
          codec: h.type === FRAME.AUDIO_PCM ? 'pcm' : 'opus',
          channels: h.width,
          rate: h.height,
          payload,
        };
      case FRAME.SIGNAL_SYNC:
      case FRAME.SIGNAL_DIFF: {
        const obj = parseSignalObject(payload);
        if (!obj)
          return this.malformed(h, 'signal payload is not a JSON object');
        const sync = h.type === FRAME.SIGNAL_SYNC;
        this.signals = mergeSignals(this.signals, obj, sync);
        return { kind: 'signals', sync, signals: this.signals };
      }
      case FRAME.SCHEMA_ANNOUNCE: {
        /* ds_schema_parse(): an object whose "signals" is missing, null
         * or an array of strings */
        const obj = parseSignalObject(payload);
        const names = obj ? obj.signals : undefined;
        if (!obj || (names !== undefined && names !== null &&
            !(Array.isArray(names) && names.every((n) => typeof n === 'string'))))
          return this.malformed(h, 'SchemaAnnounce is not a schema');
        this.schema = obj;
        return { kind: 'schema', schema: obj };
      }
      case FRAME.HAPTIC:
        return {
          kind: 'haptic',
          duration: payload[0] | (payload[1] << 8),
          intensity: payload[2],
        };
      case FRAME.KEYFRAME:
        /* reset picture and signal state */
        this.reference = null;
        this.waitingForKeyframe = true;
        this.signals = {};
        return { kind: 'keyframe' };
      case FRAME.END:
        /* gst_ds_depay_handle_end(): the stream is over; what follows is
         * a new stream from scratch */
        this.reference = null;
        this.waitingForKeyframe = false;
        this.signals = {};
        this.ended = true;
        return { kind: 'end' };
      default:
        return { kind: 'skipped' };   /* SubscribeFilter, Neural* */
    }
  }

  onPixels (h, payload, owned) {
    /* the message's buffer is ours alone: keep it instead of a copy (its
     * payload starts at byte 16, aligned for the word-at-a-time decoder) */
    this.reference = owned ? payload : payload.slice();
    this.width = h.width;
    this.height = h.height;
    this.waitingForKeyframe = false;
    return { kind: 'picture', width: h.width, height: h.height };
  }

  /* gst_ds_depay_handle_delta(): DeltaPixels and MotionDeltaPixels (never
   * a keyframe: validateFrame()) */
  onDelta (h, payload, missing, compressed) {
    const size = h.width * h.height * 4;
    const keyframe = (h.flags & FLAG_KEYFRAME) !== 0;
    const motion = h.type === FRAME.MOTION_DELTA_PIXELS;

    if (!keyframe) {
      let why = null;
      if (missing > 0)
        why = 'frames lost';
      else if (!this.reference)
        why = 'delta without a reference picture';
      else if (this.width !== h.width || this.height !== h.height)
        why = 'delta of another size than its reference';
      if (why)
        this.waitingForKeyframe = true;
      if (this.waitingForKeyframe) {
        this.reference = null;
        this.stats.dropped++;
        return { kind: 'dropped', lost: true, error: why || 'waiting for a keyframe' };
      }
    }
    let code = payload;
    if (compressed) {
      /* one zstd frame of the whole payload (the move table too) */
      const limit = size * RLE_MAX_EXPANSION + (motion ? tableSize(MAX_MOVES) : 0);
      const r = this.inflate(h, payload, limit);
      if (r.kind !== 'inflated')
        return r;
      code = r.bytes;
    }
    if (motion) {
      /* ds_motion_decode(): the table again (a compressed one is read
       * here for the first time), the moves of the reference in place,
       * then the code */
      const moves = parseMoves(code, h.width, h.height);
      if (moves.error)
        return this.undecodable(h, moves.error);
      predictInPlace(this.reference, h.width, h.height, code, moves.count, moves.area);
      code = code.subarray(tableSize(moves.count));
    }
    if (keyframe) {
      if (!this.reference || this.reference.length !== size)
        this.reference = new Uint8Array(size);
      else
        this.reference.fill(0);
      this.width = h.width;
      this.height = h.height;
    }
    if (!rleDecodeXor(code, this.reference, keyframe))
      return this.undecodable(h, 'run-length code does not decode to the picture size');
    if (keyframe)
      this.waitingForKeyframe = false;
    return { kind: 'picture', width: h.width, height: h.height };
  }

  /* A delta that cannot be decoded: the reference is damaged (or what
   * came after it on the sender's side is): only a keyframe helps now */
  undecodable (h, error) {
    this.reference = null;
    this.waitingForKeyframe = true;
    this.stats.dropped++;
    const r = this.malformed(h, error);
    r.lost = true;
    return r;
  }

  /* gst_ds_depay_decompress(): the payload of a FLAG_COMPRESSED frame is
   * exactly one zstd frame whose content is at most @limit bytes. Returns
   * { kind: 'inflated', bytes }, or the result of a picture that cannot
   * be shown (the reference is gone: what follows refers to it). */
  inflate (h, payload, limit) {
    if (!this.zstd) {
      this.stats.compressed++;
      this.stats.dropped++;
      this.reference = null;
      this.waitingForKeyframe = true;
      return { kind: 'unsupported', lost: false, compressed: true, error: 'zstd' };
    }
    const r = zstdInflate(this.zstd, payload, limit);
    if (r.error) {
      this.reference = null;
      this.waitingForKeyframe = true;
      this.stats.dropped++;
      const m = this.malformed(h, r.error);
      m.lost = true;
      return m;
    }
    this.stats.inflated++;
    return { kind: 'inflated', bytes: r.bytes };
  }

  malformed (h, error) {
    this.stats.malformed++;
    return { kind: 'malformed', header: h, error };
  }

  /* gst_ds_depay_skip_picture(): a picture that was skipped is the
   * reference of what the sender sends next */
  skipPicture (h, result) {
    if (h.type === FRAME.ENCODED_VIDEO)
      this.encoded.haveKeyframe = false;
    if (isPicture(h.type) || h.type === FRAME.ENCODED_VIDEO) {
      this.reference = null;
      this.waitingForKeyframe = true;
      result.lost = true;
    }
    return result;
  }
}
