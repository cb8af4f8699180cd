// The shared test vectors (tests/vectors/README.md) for the viewer's
// decoder: loading them, and runVector(), which runs one frame sequence
// through a StreamDecoder (relay/viewer/core/decoder.js) and lists every
// difference from what make-vectors expects. runVector is self-contained
// (no imports, no closures) so that a page can run its source too.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const VECTORS_DIR = path.resolve(HERE, '..', '..', 'vectors');

/** Every vector: { name, json, frames: Uint8Array, catchup: Uint8Array } */
export function loadVectors () {
  return fs.readdirSync(VECTORS_DIR).filter((f) => f.endsWith('.json')).sort().map((f) => {
    const json = JSON.parse(fs.readFileSync(path.join(VECTORS_DIR, f), 'utf8'));
    return {
      name: json.name,
      json,
      frames: new Uint8Array(fs.readFileSync(path.join(VECTORS_DIR, json.file))),
      catchup: new Uint8Array(fs.readFileSync(path.join(VECTORS_DIR, json.catchup_file))),
    };
  });
}

/**
 * Runs @expected.steps (offsets into @bytes) through a new @Decoder and
 * returns the differences from @expected (steps and final), as strings;
 * [] when the decoder does what make-vectors says. @label names the
 * sequence in the messages.
 */
export function runVector (Decoder, bytes, expected, label) {
  // FNV-1a 32 of RGBA with every alpha byte taken as 255, as hex
  function checksum (rgba) {
    let h = 0x811c9dc5;
    for (let i = 0; i < rgba.length; i++) {
      h ^= (i & 3) === 3 ? 0xff : rgba[i];
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h.toString(16).padStart(8, '0');
  }
  function canonical (v) {
    if (Array.isArray(v))
      return '[' + v.map(canonical).join(',') + ']';
    if (v !== null && typeof v === 'object')
      return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canonical(v[k])).join(',') + '}';
    return JSON.stringify(v);
  }
  const diffs = [];
  const differ = (where, what, got, want) => {
    if (canonical(got) !== canonical(want))
      diffs.push(`${label} ${where}: ${what} is ${canonical(got)}, expected ${canonical(want)}`);
  };

  const decoder = new Decoder();
  let shown = null;
  expected.steps.forEach((step, k) => {
    // each message in a buffer of its own, as from a WebSocket
    const message = bytes.slice(step.offset, step.offset + step.length);
    const r = decoder.push(message.buffer, true);
    const where = `frame ${k} (${step.type || 'not a frame'} seq ${step.seq})`;
    differ(where, 'result', r.kind, step.result);
    differ(where, 'missing', r.missing, step.missing);
    if (r.kind === 'picture')
      shown = checksum(decoder.reference);
    if (step.picture !== undefined || r.kind === 'picture') {
      differ(where, 'picture', r.kind === 'picture' ? shown : null, step.picture ?? null);
      differ(where, 'size', [decoder.width, decoder.height], [step.width, step.height]);
    }
    if (step.signals !== undefined || r.kind === 'signals')
      differ(where, 'signals', r.signals, step.signals);
    if (step.result === 'audio')
      differ(where, 'audio', [r.channels, r.rate, r.payload.length], [step.channels, step.rate, step.bytes]);
    if (step.result === 'image')
      differ(where, 'image', r.type, step.image);
    if (step.result === 'haptic')
      differ(where, 'haptic', [r.duration, r.intensity], [step.duration, step.intensity]);
  });
  const f = expected.final;
  differ('final', 'picture', shown, f.picture);
  differ('final', 'signals', decoder.signals, f.signals);
  differ('final', 'ended', decoder.ended, f.ended);
  differ('final', 'malformed', decoder.stats.malformed, f.malformed);
  differ('final', 'dropped', decoder.stats.dropped, f.dropped);
  differ('final', 'missing', decoder.seq.missing, f.missing);
  differ('final', 'late', decoder.seq.late, f.late);
  return diffs;
}
