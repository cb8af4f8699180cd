// Headless Debian Chromium through playwright-core, with the flags the
// tests need and a fresh profile per launch.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.DS_CHROMIUM || '/usr/bin/chromium';

export const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
  '--autoplay-policy=user-gesture-required',
];

export async function launch ({ width = 1000, height = 700 } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-viewer-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width, height },
  });
  const close = async () => {
    await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

/** Polls fn() in the page until it returns a truthy value. */
export async function waitInPage (page, fn, arg, timeout = 10000) {
  const handle = await page.waitForFunction(fn, arg, { timeout, polling: 50 });
  return handle.jsonValue();
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
