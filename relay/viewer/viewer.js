/* ds-relay viewer
 *
 * The browser side of a ds-stream receiver (docs/protocol.md): the channel
 * list (index.html) and the viewer (view.html). Plain ES2020 modules, no
 * build step, served by ds-relay from its resources:
 *
 *   core/protocol.js  constants, header, seq streams, payload checks
 *   core/rle.js       the run-length code of DeltaPixels
 *   core/motion.js    the moves of MotionDeltaPixels (as dsmotion.c)
 *   core/signals.js   the signal merge with "_v" versions
 *   core/zstd.js      FLAG_COMPRESSED: the zstd frame's bounds checked,
 *                     then decoded by fzstd
 *   core/decoder.js   StreamDecoder: a receiver's model of the stream
 *                     (the six above are pure: node imports them for
 *                     the shared vectors, tests/vectors)
 *   core/websock.js   the connection: reconnects, Ping, a list of
 *                     relays tried in turn
 *   core/relays.js    that list (?relays=) checked (pure: node tests it)
 *   core/display.js   the canvas
 *   core/video.js     EncodedVideo through WebCodecs, presented
 *                     against the audio clock
 *   core/audio.js     AudioPcm and Opus through an AudioWorklet
 *   core/audio-processor.js  the worklet (loaded by addModule)
 *   core/input.js     pointer, keys, wheel, resize
 *   core/gamepad.js   gamepads, polled while one is connected
 *   core/midi.js      Web MIDI channel messages, when asked for
 *   app/index.js      the channel list page
 *   app/view.js       the viewer page
 *   vendor/fzstd.mjs  the one dependency: the npm package fzstd (MIT,
 *                     its licence at /vendor/fzstd.LICENSE.txt), embedded
 *                     at build time from relay/viewer/node_modules
 *
 * window.dsViewer exposes the state for tests and for the curious (open
 * the console).
 */

import { parseHeader, packFrame, seqDistance } from './core/protocol.js';
import { rleDecodeXor } from './core/rle.js';
import { mergeSignals } from './core/signals.js';
import { startIndex } from './app/index.js';
import { startViewer } from './app/view.js';

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
  pictureType: null,  /* 'pixels' | 'delta' | 'motion' | 'compressed' */
  waitingForKeyframe: true,
  /* what is shown is from before the connection was lost: the picture
   * until the next one is drawn, the signals until the next SignalSync */
  pictureStale: false,
  signalsStale: false,
  keyframeRequests: 0,
  decodeErrors: 0,
  lastError: null,    /* why the last frame was malformed */
  gaps: 0,            /* frames missing on the picture stream */
  compressedSkipped: 0, /* zstd frames not decoded: no zstd decoder */
  zstd: false,        /* the relay serves a zstd decoder (fzstd) */
  inflated: 0,        /* zstd frames decompressed */
  signals: {},
  schema: null,
  bytes: 0,           /* bytes received */
  fps: null,          /* pictures drawn per second, kbit/s received */
  kbps: null,         /* (while the stats overlay is shown) */
  statsShown: false,
  secureContext: null,
  missingFeatures: [], /* VideoDecoder, AudioDecoder, AudioWorklet */
  audio: {
    frames: 0, scheduled: 0, dropped: 0, context: 'none',
    path: 'none',     /* 'worklet' | 'buffers' (no worklet) | 'loading' */
    opus: 0, opusDecoded: 0, opusErrors: 0, unsupported: 0,
    queuedMs: 0, underruns: 0, overruns: 0, droppedMs: 0, silenceMs: 0,
    lastError: null,
  },
  video: {
    codec: null, codecString: null, cannotDecode: null,
    units: 0, bytes: 0, decoded: 0, presented: 0,
    skipped: 0,       /* units without their keyframe */
    dropped: 0,       /* units not decoded: decode queue over its bound */
    queueDrops: 0, resets: 0, errors: 0, unsupported: 0,
    late: 0,          /* frames decoded too late to be shown */
    held: 0,          /* frames decoded before their time on the audio clock */
    synced: 0, unsynced: 0, /* shown on the audio clock or as they came */
    decodeMs: null, lastError: null, lastTimestamp: null,
    lastDrawn: null,  /* timestamp of the last frame whose pixels are on the canvas */
    drawWay: null,    /* 'drawImage' | 'copyTo' once chosen (core/display.js) */
    sync: [],         /* audio clock − picture timestamp, ms, per frame shown */
  },
  ended: false,
  sent: { input: 0, pings: 0, filters: 0 },
  gamepad: {},        /* connected, sent (core/gamepad.js) */
  midi: {},           /* state, inputs, sent, ignored, dropped (core/midi.js) */
  codec: { parseHeader, packFrame, rleDecodeXor, mergeSignals, seqDistance },
};
window.dsViewer = state;

function start () {
  state.page = document.body.dataset.page;
  if (state.page === 'index')
    startIndex(state);
  else if (state.page === 'view')
    startViewer(state);
}

/* modules run after the document is parsed, like defer */
if (document.readyState === 'loading')
  document.addEventListener('DOMContentLoaded', start);
else
  start();
