// Benchmark (not a test): the viewer's DeltaPixels decoder in headless
// Chromium on 1920x1080 RGBA. Prints ms per frame and GB/s of picture for
// a low-motion delta (a 200x200 box changed), a keyframe delta of a
// desktop-like picture, and full noise (every byte literal), next to
// Uint8Array.set (a memcpy) of the same picture in the same run.
//
//   node tests/browser/bench-decoder.mjs

import { MockRelay } from './lib/mock-relay.mjs';
import { launch } from './lib/browser.mjs';
import { rleEncodeXor } from './lib/frames.mjs';

const W = 1920, H = 1080, SIZE = W * H * 4;

function desktop (seed) {
  const p = Buffer.alloc(SIZE);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * 4;
      const inWindow = x > 200 && x < 1400 && y > 100 && y < 900;
      const text = inWindow && (y % 18) < 12 && ((x * 7 + y * 3 + seed) % 11) < 4;
      const v = text ? 30 : inWindow ? 250 : 60;
      p[o] = v; p[o + 1] = v; p[o + 2] = inWindow ? v : 90; p[o + 3] = 255;
    }
  return p;
}

const a = desktop(0);
const b = Buffer.from(a);
for (let y = 400; y < 600; y++)
  for (let x = 600; x < 800; x++)
    b[(y * W + x) * 4] ^= 0x55;
const noise = Buffer.alloc(SIZE);
for (let i = 0; i < SIZE; i++)
  noise[i] = 1 + ((i * 2654435761) >>> 24) % 255;

// [code, reference is zero (keyframe)]
const cases = {
  'low motion (200x200 box)': [rleEncodeXor(b, a), false],
  'keyframe (desktop-like)': [rleEncodeXor(a, null), true],
  'full noise delta (literal)': [rleEncodeXor(noise, null), false],
};

const relay = await new MockRelay().start();
const browser = await launch();
const page = await browser.context.newPage();
await page.goto(relay.base + '/view/bench');
await page.waitForFunction(() => window.dsViewer);

console.log(`DeltaPixels decode in Chromium, ${W}x${H} RGBA (${(SIZE / 1e6).toFixed(1)} MB)`);
for (const [name, [code, key]] of Object.entries(cases)) {
  const r = await page.evaluate(async ([bytes, size, keyframe]) => {
    const code = new Uint8Array(bytes);
    const ref = new Uint8Array(size);
    const src = new Uint8Array(size);
    const dec = dsViewer.codec.rleDecodeXor;
    let n = 0;
    let ok = true;
    const t0 = performance.now();
    while (performance.now() - t0 < 1500) {
      ok = dec(code, ref, keyframe) && ok;
      n++;
    }
    const dt = (performance.now() - t0) / n;
    let m = 0;
    const t1 = performance.now();
    while (performance.now() - t1 < 500) {
      ref.set(src);
      m++;
    }
    return { ok, ms: dt, copyMs: (performance.now() - t1) / m };
  }, [Array.from(code), SIZE, key]);
  console.log(`  ${name.padEnd(28)} code ${(code.length / 1024).toFixed(0).padStart(6)} KiB  ` +
      `${r.ms.toFixed(2).padStart(6)} ms/frame  ${(SIZE / r.ms / 1e6).toFixed(1).padStart(6)} GB/s  ` +
      `(memcpy ${r.copyMs.toFixed(2)} ms)  ${r.ok ? 'ok' : 'DECODE FAILED'}`);
}
await browser.close();
await relay.stop();
