/* ds-relay viewer: the wire protocol (SPEC §2–§5, docs/protocol.md)
 *
 * Constants, the 16-byte header, seq arithmetic and seq streams, and the
 * per-type payload checks. Pure: no DOM, no WebSocket, so that node can
 * import it (tests/vectors).
 */

import { parseMoves, tableSize } from './motion.js';

export const HEADER_SIZE = 16;

export const FRAME = Object.freeze({
  PIXELS: 0x01,
  COMPRESSED_PIXELS: 0x02,
  DELTA_PIXELS: 0x03,
  MOTION_DELTA_PIXELS: 0x04,
  ENCODED_VIDEO: 0x05,
  AUDIO_PCM: 0x10,
  AUDIO_COMPRESSED: 0x11,
  HAPTIC: 0x20,
  SIGNAL_SYNC: 0x30,
  SIGNAL_DIFF: 0x31,
  SCHEMA_ANNOUNCE: 0x32,
  SUBSCRIBE_FILTER: 0x33,
  NEURAL_FRAME: 0x40,
  NEURAL_AUDIO: 0x41,
  NEURAL_ACTUATOR: 0x42,
  NEURAL_LATENT: 0x43,
  KEYFRAME: 0xf0,
  PING: 0xfe,
  END: 0xff,
});

export const INPUT = Object.freeze({
  POINTER: 0x01,
  POINTER_DOWN: 0x02,
  POINTER_UP: 0x03,
  KEY_DOWN: 0x10,
  KEY_UP: 0x11,
  TOUCH: 0x20,
  GAMEPAD_AXIS: 0x30,
  GAMEPAD_BUTTON: 0x31,
  MIDI: 0x40,
  SCROLL: 0x50,
  RESIZE: 0x60,
  KEYFRAME_REQUEST: 0x70,
});

export const FLAG_INPUT = 1 << 0;
export const FLAG_KEYFRAME = 1 << 1;
export const FLAG_COMPRESSED = 1 << 2;

/** Parses the 16-byte little-endian header at the start of @bytes (an
 * ArrayBuffer or a Uint8Array). */
export function parseHeader (bytes) {
  const view = bytes instanceof ArrayBuffer ?
    new DataView(bytes, 0) : new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.byteLength < HEADER_SIZE)
    throw new Error('frame shorter than its header');
  return {
    type: view.getUint8(0),
    flags: view.getUint8(1),
    seq: view.getUint16(2, true),
    timestamp: view.getUint32(4, true),
    width: view.getUint16(8, true),
    height: view.getUint16(10, true),
    payloadLen: view.getUint32(12, true),
  };
}

/** Builds one frame: header + @payload (Uint8Array or null). */
export function packFrame (type, flags, seq, timestamp, width, height, payload) {
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

/** Signed distance from @prev to @cur modulo 2^16 (1 = next frame), as
 * ds_seq_distance(). */
export function seqDistance (prev, cur) {
  return ((cur - prev + 0x8000) & 0xffff) - 0x8000;
}

/* Seq streams (docs/protocol.md §2): a sender's seq counts per kind of
 * media. The same grouping as DsSeqStream (gst-libs/ds/dsstream.h). */
export const SEQ_STREAM = Object.freeze({
  PICTURES: 0,
  AUDIO: 1,
  SIGNALS: 2,
  OTHER: 3,
  NONE: 4,
});
const N_SEQ_STREAMS = 4;

/** The seq stream of a frame type, as ds_frame_type_seq_stream(). */
export function frameSeqStream (type) {
  switch (type) {
    case FRAME.PIXELS:
    case FRAME.DELTA_PIXELS:
    case FRAME.MOTION_DELTA_PIXELS:
    case FRAME.COMPRESSED_PIXELS:
    case FRAME.ENCODED_VIDEO:
      return SEQ_STREAM.PICTURES;
    case FRAME.AUDIO_PCM:
    case FRAME.AUDIO_COMPRESSED:
      return SEQ_STREAM.AUDIO;
    case FRAME.SIGNAL_SYNC:
    case FRAME.SIGNAL_DIFF:
    case FRAME.SCHEMA_ANNOUNCE:
      return SEQ_STREAM.SIGNALS;
    case FRAME.HAPTIC:
    case FRAME.NEURAL_FRAME:
    case FRAME.NEURAL_AUDIO:
    case FRAME.NEURAL_ACTUATOR:
    case FRAME.NEURAL_LATENT:
      return SEQ_STREAM.OTHER;
    default:
      return SEQ_STREAM.NONE;   /* Keyframe, Ping, End, SubscribeFilter */
  }
}

/**
 * Seq continuity per seq stream. Mirrors DsSeqTracker and
 * ds_seq_tracker_push() in gst-libs/ds/dsstream.c line for line: each of
 * the four streams (pictures, audio, signals, other) has its own
 * counter, so interleaved streams are no gap; the first frame of a
 * stream is never a gap; the distance is taken modulo 2^16, so a wrap
 * from 65535 to 0 is the next frame; a Keyframe or End frame starts a
 * new stream for every kind (what follows is never a gap); a new
 * connection calls reset(), as dsstreamsrc does on (re)connect.
 */
export class SeqTracker {
  constructor () {
    this.haveSeq = new Array(N_SEQ_STREAMS).fill(false);
    this.seq = new Array(N_SEQ_STREAMS).fill(0);
    this.missing = 0;           /* frames missing, all streams */
    this.late = 0;              /* duplicates and reordered frames */
  }

  /** Forgets every stream's position (ds_seq_tracker_reset()) */
  reset () {
    this.haveSeq.fill(false);
  }

  /** Takes the next frame's header. Returns how many frames of its seq
   * stream are missing before it (0: in order or the first of its
   * stream), or -1 for a duplicate or reordered frame (the stream's
   * position is kept). */
  push (h) {
    if (h.type === FRAME.KEYFRAME || h.type === FRAME.END) {
      this.reset();
      return 0;
    }
    const id = frameSeqStream(h.type);
    if (id === SEQ_STREAM.NONE)
      return 0;
    if (!this.haveSeq[id]) {
      this.haveSeq[id] = true;
      this.seq[id] = h.seq;
      return 0;
    }
    const distance = seqDistance(this.seq[id], h.seq);
    if (distance <= 0) {
      this.late++;
      return -1;
    }
    this.seq[id] = h.seq;
    this.missing += distance - 1;
    return distance - 1;
  }
}

/**
 * Checks that a frame's payload fits its type, as ds_frame_validate()
 * does for frames without FLAG_INPUT. Returns null when it does, else
 * why not. It does not parse JSON or decode DeltaPixels; the move table
 * of an uncompressed MotionDeltaPixels is checked by
 * validateMotionPayload() (ds_frame_validate() with the payload).
 */
export function validateFrame (h) {
  const compressed = (h.flags & FLAG_COMPRESSED) !== 0;
  const len = h.payloadLen;
  switch (h.type) {
    case FRAME.PIXELS:
      if (h.width === 0 || h.height === 0)
        return 'Pixels frame without a size';
      if (!compressed && h.width * h.height * 4 !== len)
        return 'Pixels payload is not width×height×4 bytes';
      return null;
    case FRAME.COMPRESSED_PIXELS:
      return len === 0 ? 'empty CompressedPixels frame' : null;
    case FRAME.DELTA_PIXELS:
      if (h.width === 0 || h.height === 0)
        return 'DeltaPixels frame without a size';
      return len === 0 ? 'empty DeltaPixels frame' : null;
    case FRAME.MOTION_DELTA_PIXELS:
      if (h.width === 0 || h.height === 0)
        return 'MotionDeltaPixels frame without a size';
      if (h.flags & FLAG_KEYFRAME)
        return 'MotionDeltaPixels frame with FLAG_KEYFRAME (a keyframe has no reference to move)';
      if (compressed)
        return len === 0 ? 'empty MotionDeltaPixels frame' : null;
      /* u16 move_count and at least one byte of code */
      if (len < 3)
        return 'MotionDeltaPixels payload has no run-length code after its move table';
      return null;
    case FRAME.ENCODED_VIDEO:
      if (h.width === 0 || h.height === 0)
        return 'EncodedVideo frame without a picture size';
      /* u8 codec, u8 reserved, then at least one byte of access unit */
      return len < 3 ? 'EncodedVideo payload shorter than its codec prefix and one byte' : null;
    case FRAME.AUDIO_PCM:
      if (h.width === 0 || h.height === 0)
        return 'AudioPcm frame without channels or rate';
      if (!compressed && len % (4 * h.width) !== 0)
        return 'AudioPcm payload is not whole sample frames';
      return null;
    case FRAME.AUDIO_COMPRESSED:
      if (h.width === 0 || h.height === 0)
        return 'AudioCompressed frame without channels or rate';
      return len === 0 ? 'empty AudioCompressed frame' : null;
    case FRAME.HAPTIC:
      return len < 3 && !compressed ? 'Haptic payload shorter than 3 bytes' : null;
    case FRAME.SIGNAL_SYNC:
    case FRAME.SIGNAL_DIFF:
    case FRAME.SCHEMA_ANNOUNCE:
    case FRAME.SUBSCRIBE_FILTER:
      return len === 0 ? 'empty signal frame' : null;
    case FRAME.NEURAL_FRAME:
    case FRAME.NEURAL_AUDIO:
    case FRAME.NEURAL_ACTUATOR:
    case FRAME.NEURAL_LATENT:
    case FRAME.KEYFRAME:
    case FRAME.PING:
    case FRAME.END:
      return null;
    default:
      return 'unknown frame type 0x' + h.type.toString(16).padStart(2, '0');
  }
}

/**
 * The rest of ds_frame_validate() for an uncompressed MotionDeltaPixels
 * (validateFrame() passed): the move table (motion.js parseMoves()), and
 * a run-length code after it. Returns null or why not.
 */
export function validateMotionPayload (h, payload) {
  const moves = parseMoves(payload, h.width, h.height);
  if (moves.error)
    return moves.error;
  if (tableSize(moves.count) === payload.length)
    return 'MotionDeltaPixels payload has no run-length code after its move table';
  return null;
}

/** "image/png", "image/webp" or null, by signature (ds_image_sniff()) */
export function sniffImage (bytes) {
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b))
    return 'image/png';
  const ascii = (o, s) => Array.from(s).every((c, i) => bytes[o + i] === c.charCodeAt(0));
  if (bytes.length >= 12 && ascii(0, 'RIFF') && ascii(8, 'WEBP'))
    return 'image/webp';
  return null;
}
