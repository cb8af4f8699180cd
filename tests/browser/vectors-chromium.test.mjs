// The shared test vectors (tests/vectors) inside headless Chromium: the
// viewer's decoder module loaded by the page from the (stand-in) relay,
// every vector run through it there as vectors.test.mjs does in node
// (FLAG_COMPRESSED through /vendor/fzstd.mjs, as the page does);
// and one vector sent frame by frame to the real viewer page, whose
// canvas must then show the vector's final picture.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MockRelay, HAVE_FZSTD } from './lib/mock-relay.mjs';
import { launch, waitInPage } from './lib/browser.mjs';
import { loadVectors, runVector } from './lib/vectors.mjs';

let relay;
let browser;
let page;
const vectors = loadVectors();

before(async () => {
  relay = await new MockRelay().start();
  browser = await launch();
  page = await browser.context.newPage();
  await page.goto(relay.base + '/');
});

after(async () => {
  await browser?.close();
  await relay?.stop();
});

test('every vector through core/decoder.js in Chromium', async () => {
  const input = vectors.map((v) => ({
    name: v.name,
    json: v.json,
    frames: Buffer.from(v.frames).toString('base64'),
    catchup: Buffer.from(v.catchup).toString('base64'),
  }));
  const skipped = (v) => v.json.browser_skip ||
      ((v.json.needs || []).includes('zstd') && !HAVE_FZSTD);
  const out = await page.evaluate(async ({ source, input }) => {
    const { StreamDecoder } = await import('/core/decoder.js');
    const { decompress } = await import('/vendor/fzstd.mjs');
    class Decoder extends StreamDecoder {
      constructor () {
        super({ zstd: decompress });
      }
    }
    const runVector = new Function('return ' + source)();
    const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const results = {};
    for (const v of input) {
      if (v.skip) {
        results[v.name] = 'skipped';
        continue;
      }
      const diffs = runVector(Decoder, bytes(v.frames), v.json, v.name);
      v.json.catchups.forEach((c, i) => diffs.push(...runVector(Decoder, bytes(v.catchup), c,
          `${v.name} catch-up ${i}`)));
      results[v.name] = diffs;
    }
    return results;
  }, { source: runVector.toString(), input: input.map((v, i) => ({ ...v, skip: !!skipped(vectors[i]) })) });
  for (const v of vectors)
    assert.deepEqual(out[v.name], skipped(v) ? 'skipped' : [], v.name);
  if (!HAVE_FZSTD)
    console.log('# zstd vectors skipped: the npm package fzstd is not installed (npm ci in relay/viewer)');
});

test('a vector through the viewer page: the canvas shows its final picture', async () => {
  const v = vectors.find((x) => x.name === 'delta-low-motion');
  const p = await browser.context.newPage();
  try {
    await p.goto(`${relay.base}/view/vectors`);
    const ws = await relay.waitForClient(1);
    await waitInPage(p, () => window.dsViewer && window.dsViewer.connected);
    for (const step of v.json.steps)
      ws.send(Buffer.from(v.frames.subarray(step.offset, step.offset + step.length)));
    await waitInPage(p, (n) => dsViewer.frames === n, v.json.steps.length);
    // the canvas is drawn on the next animation frame: wait for the
    // picture (until the deadline), then compare what is shown
    const shown = (want) => {
      const cv = document.getElementById('picture');
      const rgba = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
      let h = 0x811c9dc5;
      for (let i = 0; i < rgba.length; i++) {
        h ^= (i & 3) === 3 ? 0xff : rgba[i];
        h = Math.imul(h, 0x01000193) >>> 0;
      }
      h = h.toString(16).padStart(8, '0');
      return want === undefined ? h : h === want;
    };
    await p.waitForFunction(shown, v.json.final.picture, { timeout: 5000, polling: 20 }).catch((e) => {
      if (e.name !== 'TimeoutError')
        throw e;
    });
    assert.equal(await p.evaluate(shown), v.json.final.picture);
  } finally {
    await p.close();
  }
});
