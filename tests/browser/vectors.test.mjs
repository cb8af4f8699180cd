// The shared test vectors (tests/vectors) through the viewer's decoder,
// in node: relay/viewer/core/decoder.js imported as it is served. Every
// vector, its frames and each of its catch-ups, frame by frame: result,
// seq gap, picture checksum and size, merged signal state, audio; then
// the final state. FLAG_COMPRESSED payloads go through the npm package
// fzstd as the page does (from relay/viewer/node_modules: npm ci there);
// without it the vectors that need zstd are skipped, saying so. Vectors
// marked browser_skip are skipped with their reason. meson:
// vectors_viewer (no Chromium needed).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadVectors, runVector } from './lib/vectors.mjs';
import { StreamDecoder } from '../../relay/viewer/core/decoder.js';

const vectors = loadVectors();
const FZSTD = path.resolve(path.dirname(fileURLToPath(import.meta.url)),
    '..', '..', 'relay', 'viewer', 'node_modules', 'fzstd', 'esm', 'index.mjs');
const fzstd = fs.existsSync(FZSTD) ? await import(FZSTD) : null;
class Decoder extends StreamDecoder {
  constructor () {
    super({ zstd: fzstd ? fzstd.decompress : null });
  }
}

test('there are vectors', () => {
  assert.ok(vectors.length >= 10, `${vectors.length} vectors in tests/vectors`);
});

for (const v of vectors) {
  test(`vector ${v.name}: ${v.json.description}`, (t) => {
    if (v.json.browser_skip) {
      t.skip(v.json.browser_skip);
      return;
    }
    if ((v.json.needs || []).includes('zstd') && !fzstd) {
      t.skip('the npm package fzstd is not installed (npm ci in relay/viewer)');
      return;
    }
    const diffs = runVector(Decoder, v.frames, v.json, v.name);
    v.json.catchups.forEach((c, i) => {
      diffs.push(...runVector(Decoder, v.catchup, c,
          `${v.name} catch-up ${i} (select ${JSON.stringify(c.select)})`));
    });
    assert.deepEqual(diffs, []);
  });
}
