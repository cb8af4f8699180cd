// The shared test vectors (tests/vectors) through the viewer's decoder,
// in node: relay/viewer/core/decoder.js imported as it is served. Every
// vector, its frames and each of its catch-ups, frame by frame: result,
// seq gap, picture checksum and size, merged signal state, audio; then
// the final state. Vectors the browser cannot decode yet (zstd) are
// skipped with their reason. meson: vectors_viewer (no Chromium needed).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadVectors, runVector } from './lib/vectors.mjs';
import { StreamDecoder } from '../../relay/viewer/core/decoder.js';

const vectors = loadVectors();

test('there are vectors', () => {
  assert.ok(vectors.length >= 10, `${vectors.length} vectors in tests/vectors`);
});

for (const v of vectors) {
  test(`vector ${v.name}: ${v.json.description}`, (t) => {
    if (v.json.browser_skip) {
      t.skip(v.json.browser_skip);
      return;
    }
    const diffs = runVector(StreamDecoder, v.frames, v.json, v.name);
    v.json.catchups.forEach((c, i) => {
      diffs.push(...runVector(StreamDecoder, v.catchup, c,
          `${v.name} catch-up ${i} (select ${JSON.stringify(c.select)})`));
    });
    assert.deepEqual(diffs, []);
  });
}
