// Headless Debian Chromium through playwright-core, with the flags the
// tests need and a fresh profile per launch.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.DS_CHROMIUM || '/usr/bin/chromium';

export const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
  '--autoplay-policy=user-gesture-required',
];

/** @args: more Chromium flags */
export async function launch ({ width = 1000, height = 700, args = [] } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-viewer-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...ARGS, ...args],
    viewport: { width, height },
  });
  const close = async () => {
    await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, close, profile };
}

/** Polls fn() in the page until it returns a truthy value. */
export async function waitInPage (page, fn, arg, timeout = 10000) {
  const handle = await page.waitForFunction(fn, arg, { timeout, polling: 50 });
  return handle.jsonValue();
}

/**
 * The canvas as { width, height, rgba } (a Buffer), sent from the page as
 * one base64 string: an Array of 1.2 million numbers (640x480) takes
 * seconds to come through the DevTools protocol, the string milliseconds.
 */
export async function canvasRgba (page) {
  const r = await page.evaluate(() => {
    const c = document.getElementById('picture');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let bin = '';
    for (let i = 0; i < d.length; i += 0x8000)
      bin += String.fromCharCode.apply(null, d.subarray(i, i + 0x8000));
    return { w: c.width, h: c.height, b64: btoa(bin) };
  });
  return { width: r.w, height: r.h, rgba: Buffer.from(r.b64, 'base64') };
}

/**
 * Waits until the canvas holds exactly @rgba (its size and every byte),
 * then returns; after @timeout ms it asserts what the canvas holds then,
 * which shows the difference. Drawing happens on the next animation
 * frame after a picture arrives: this waits for that instead of a fixed
 * time.
 */
export async function waitForCanvas (page, rgba, timeout = 5000) {
  const want = Buffer.from(rgba);
  try {
    await page.waitForFunction((b64) => {
      const w = atob(b64);
      const c = document.getElementById('picture');
      if (c.width * c.height * 4 !== w.length)
        return false;
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < d.length; i++)
        if (d[i] !== w.charCodeAt(i))
          return false;
      return true;
    }, want.toString('base64'), { timeout, polling: 20 });
  } catch (e) {
    if (e.name !== 'TimeoutError')
      throw e;
  }
  assert.deepEqual(Array.from((await canvasRgba(page)).rgba), Array.from(want));
}

/** Waits until the canvas pixel (x, y) is @rgba; asserts it after @timeout ms. */
export async function waitForPixel (page, x, y, rgba, timeout = 5000) {
  try {
    await page.waitForFunction(([px, py, want]) => {
      const d = document.getElementById('picture').getContext('2d').getImageData(px, py, 1, 1).data;
      return want.every((v, i) => d[i] === v);
    }, [x, y, rgba], { timeout, polling: 20 });
  } catch (e) {
    if (e.name !== 'TimeoutError')
      throw e;
  }
  assert.deepEqual(await canvasPixel(page, x, y), rgba);
}

/** Polls @fn() in node (every 20 ms) until it is truthy; returns it or throws after @timeout ms. */
export async function waitUntil (fn, what, timeout = 10000) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v)
      return v;
    if (Date.now() - t0 > timeout)
      throw new Error(`no ${what} within ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Where failure screenshots go: the meson build dir when known. */
export function artifactDir () {
  const dir = process.env.DS_BROWSER_ARTIFACTS ||
      path.join(os.tmpdir(), 'ds-browser-artifacts');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Saves a screenshot of @page named after the test when it failed. */
export async function screenshotOnFailure (t, page) {
  if (!page)
    return;
  const name = t.name.replace(/[^A-Za-z0-9._-]+/g, '_');
  const file = path.join(artifactDir(), 'fail-' + name + '.png');
  try {
    await page.screenshot({ path: file });
    console.error('# screenshot saved: ' + file);
  } catch (e) {
    console.error('# screenshot failed: ' + e.message);
  }
}

/** Canvas pixel at source coordinates (x, y) as [r, g, b, a]. */
export function canvasPixel (page, x, y) {
  return page.evaluate(([px, py]) => {
    const c = document.getElementById('picture');
    return Array.from(c.getContext('2d').getImageData(px, py, 1, 1).data);
  }, [x, y]);
}

/** Client (CSS) coordinates of the centre of source pixel (x, y). */
export function clientPointOf (page, x, y) {
  return page.evaluate(([px, py]) => {
    const c = document.getElementById('picture');
    const b = c.getBoundingClientRect();
    const scale = Math.min(b.width / c.width, b.height / c.height);
    const offX = (b.width - c.width * scale) / 2;
    const offY = (b.height - c.height * scale) / 2;
    return { x: b.left + offX + (px + 0.5) * scale, y: b.top + offY + (py + 0.5) * scale };
  }, [x, y]);
}
