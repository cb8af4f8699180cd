// Real encoded media for the viewer's EncodedVideo and Opus tests: access
// units and Opus packets made by gst-launch-1.0 (one file per buffer with
// multifilesink next-file=buffer), read back in order, each with whether
// it is a keyframe, and wrapped in ds-stream frames (SPEC §3: EncodedVideo
// is `u8 codec`, `u8 reserved`, then the unit).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { packFrame, FLAG_KEYFRAME } from './frames.mjs';

export const ENCODED_VIDEO = 0x05;
export const AUDIO_COMPRESSED = 0x11;

export const CODEC = { H264: 1, H265: 2, VP8: 3, VP9: 4, AV1: 5 };

const caps = (w, h) => `video/x-raw,format=I420,width=${w},height=${h},framerate=15/1`;

// The encoders, each as the end of a pipeline that gives one access unit
// per buffer, and how to tell a keyframe from the unit's bytes
export const ENCODERS = {
  h264: {
    codec: CODEC.H264,
    element: 'x264enc',
    tail: 'x264enc tune=zerolatency bframes=0 key-int-max=15 ! h264parse config-interval=-1 ! ' +
      'video/x-h264,stream-format=byte-stream,alignment=au',
    isKey: (u) => nalTypes(u, (b) => b & 0x1f).includes(5),      // IDR
  },
  h265: {
    codec: CODEC.H265,
    element: 'x265enc',
    tail: 'x265enc tune=zerolatency key-int-max=15 ! h265parse config-interval=-1 ! ' +
      'video/x-h265,stream-format=byte-stream,alignment=au',
    isKey: (u) => nalTypes(u, (b) => (b >> 1) & 0x3f).some((t) => t >= 16 && t <= 21), // IRAP
  },
  vp8: {
    codec: CODEC.VP8,
    element: 'vp8enc',
    tail: 'vp8enc deadline=1 keyframe-max-dist=15',
    isKey: (u) => (u[0] & 1) === 0,                                // frame tag: key_frame = 0
  },
  vp9: {
    codec: CODEC.VP9,
    element: 'vp9enc',
    tail: 'vp9enc deadline=1 keyframe-max-dist=15',
    // profile 0: frame_marker(2) profile(2) show_existing_frame(1) frame_type(1), 0 = key
    isKey: (u) => (u[0] >> 6) === 2 && (u[0] & 0x08) === 0 && (u[0] & 0x04) === 0,
  },
  av1: {
    codec: CODEC.AV1,
    element: 'av1enc',
    tail: 'av1enc usage-profile=realtime cpu-used=8 keyframe-max-dist=15 ! av1parse ! ' +
      'video/x-av1,stream-format=obu-stream,alignment=tu',
    isKey: (u) => obuTypes(u).includes(1),                         // a sequence header
  },
};

function nalTypes (u, typeOf) {
  const types = [];
  for (let i = 0; i + 3 < u.length; i++)
    if (u[i] === 0 && u[i + 1] === 0 && u[i + 2] === 1) {
      types.push(typeOf(u[i + 3]));
      i += 2;
    }
  return types;
}

function obuTypes (u) {
  const types = [];
  let p = 0;
  while (p < u.length) {
    const h = u[p];
    types.push((h >> 3) & 0xf);
    p += 1 + ((h >> 2) & 1);
    if (!((h >> 1) & 1))
      break;
    let size = 0;
    for (let i = 0; i < 8; i++) {
      const b = u[p++];
      size += (b & 0x7f) * 2 ** (7 * i);
      if (!(b & 0x80))
        break;
    }
    p += size;
  }
  return types;
}

export function elementMissing (name) {
  const r = spawnSync('gst-inspect-1.0', [name], { encoding: 'utf8', timeout: 60000 });
  return r.status === 0 ? null : `no ${name} (scripts/apt-packages.txt installs it)`;
}

// Runs `@head ! @tail ! multifilesink` and returns the buffers, in order
function buffersOf (head, tail) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-media-'));
  try {
    const pipeline = `${head} ! ${tail} ! multifilesink next-file=buffer location=${tmp}/b%05d`;
    const r = spawnSync('gst-launch-1.0', ['-q', ...pipeline.split(' ')], { encoding: 'utf8', timeout: 120000 });
    if (r.status !== 0)
      throw new Error(`gst-launch-1.0 ${pipeline} failed: ${r.stdout}${r.stderr}`);
    return fs.readdirSync(tmp).sort().map((f) => fs.readFileSync(path.join(tmp, f)));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** @n access units of SMPTE bars (@width x @height, 15 fps, a keyframe
 * every 15) from encoder @name of ENCODERS: [{ unit, key }] */
export function encodeBars (name, n = 30, width = 320, height = 240) {
  const enc = ENCODERS[name];
  return buffersOf(`videotestsrc pattern=smpte num-buffers=${n} ! ${caps(width, height)}`, enc.tail)
    .map((unit) => ({ unit, key: enc.isKey(unit) }));
}

/** Opus packets of a @freq Hz sine, 20 ms each, stereo 48 kHz */
export function opusTone (freq = 440, packets = 100) {
  return buffersOf(`audiotestsrc wave=sine freq=${freq} volume=0.5 samplesperbuffer=960 num-buffers=${packets} ! ` +
    'audio/x-raw,rate=48000,channels=2', 'opusenc frame-size=20');
}

/** An EncodedVideo frame of @unit */
export function videoFrame (codec, { unit, key }, seq, timestamp, width = 320, height = 240) {
  const payload = Buffer.concat([Buffer.from([codec, 0]), unit]);
  return packFrame({ type: ENCODED_VIDEO, flags: key ? FLAG_KEYFRAME : 0, seq, timestamp, width, height }, payload);
}

/** An AudioCompressed frame of one Opus packet */
export function opusFrame (packet, seq, timestamp, channels = 2) {
  return packFrame({ type: AUDIO_COMPRESSED, seq, timestamp, width: channels, height: 48000 }, packet);
}
