// A real X screencast (issue 11, item 13): Chromium (not headless) shows a
// page with black, white, saturated colours and text on Xvfb; ximagesrc
// with its default properties (use-damage=true, show-pointer=true)
// captures it, the pictures go through the real ds-relay, and both
// receivers must show exactly what xwd reads from the X screen: the
// viewer's canvas in headless Chromium and `dsdepay ! pngenc`. Pixels
// are compared, all four bytes; only the mouse pointer, which ximagesrc
// draws and xwd does not, may differ (one box of at most 32×32).
//
// Skipped (the whole file) when Xvfb, xwd (x11-apps), ximagesrc or the
// elements are missing.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Relay, RELAY } from './lib/relay.mjs';
import { Command, Launch, elementsMissing } from './lib/gst.mjs';
import { launch, waitInPage, screenshotOnFailure, artifactDir, canvasRgba } from './lib/browser.mjs';
import { startXvfb } from './lib/receiver.mjs';
import { have, servePage, showOnX, xwdRoot, decodePng, comparePictures } from './lib/xscreen.mjs';
import { png } from './lib/frames.mjs';

const SRC = process.env.DS_SOURCE_ROOT || path.resolve(import.meta.dirname ?? '.', '..', '..');
const W = 640, H = 480;

const skip = !RELAY ? 'DS_RELAY is not set (ds-relay not built)' :
    !have('Xvfb') ? 'Xvfb missing (apt-get install xvfb)' :
    !have('xwd') ? 'xwd missing (apt-get install x11-apps)' :
    elementsMissing(['dspay', 'dsdelta', 'dsrelaysink', 'dsstreamsrc', 'dsdepay', 'ximagesrc', 'pngenc']);

let relay, browser, page, xvfb, site;
const running = [];

before(async () => {
  if (skip)
    return;
  relay = await new Relay().start();
  browser = await launch({ width: 900, height: 700 });
  site = await servePage();
});

after(async () => {
  await browser?.close();
  await relay?.stop();
  await site?.close();
});

afterEach(async () => {
  for (const c of running.splice(0))
    await c.stop();
  if (page && !page.isClosed())
    await page.close();
  page = null;
});

function stest (name, fn) {
  test(name, { skip: skip || false, timeout: 120000 }, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      await screenshotOnFailure(t, page);
      for (const c of running)
        if (c.out)
          console.error(`# ${c.pipeline}\n${c.out.slice(-2000)}`);
      throw e;
    }
  });
}

async function startScreen () {
  const x = await startXvfb(spawn, `${W}x${H}x24`);
  running.push({ stop: async () => x.stop(), pipeline: 'Xvfb' });
  return x.display;
}

function showPage (display) {
  const c = showOnX(display, site.url);
  running.push({ stop: async () => c.stop(), pipeline: 'chromium on X' });
}

// the mouse pointer is the only part of the capture that is not on the
// X screen: all other pixels match
function sameAsScreen (cmp) {
  return cmp.box === null || (cmp.box.w <= 32 && cmp.box.h <= 32);
}

/**
 * Polls until @get() shows the X screen (the page may still be drawing).
 * Returns the last comparison; saves both pictures when they differ.
 */
async function waitForScreen (display, get, what, timeout = 30000) {
  const t0 = Date.now();
  let cmp, screen, shown;
  for (;;) {
    screen = xwdRoot(display);
    shown = await get();
    // the page must be on the screen: its pure red block
    const o = (140 * W + 100) * 4;
    const pageShown = screen.rgba[o] === 255 && screen.rgba[o + 1] === 0 && screen.rgba[o + 2] === 0;
    if (shown && shown.width === W && shown.height === H) {
      cmp = comparePictures(screen, shown);
      if (pageShown && sameAsScreen(cmp))
        break;
    }
    if (Date.now() - t0 > timeout) {
      const dir = artifactDir();
      fs.writeFileSync(path.join(dir, `screencast-${what}-xscreen.png`), png(screen.width, screen.height, screen.rgba));
      if (shown)
        fs.writeFileSync(path.join(dir, `screencast-${what}-shown.png`), png(shown.width, shown.height, shown.rgba));
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log(`# ${what}: ${cmp ? `${cmp.matching}/${cmp.total} pixels match the X screen ` +
      `(${cmp.percent.toFixed(3)} %), differing box ${JSON.stringify(cmp.box)}` : 'no picture'}`);
  assert.ok(cmp, `${what}: no ${W}x${H} picture`);
  assert.ok(sameAsScreen(cmp), `${what}: ${cmp.total - cmp.matching} pixels differ from the X screen ` +
      `(${cmp.percent.toFixed(2)} % match) in ${JSON.stringify(cmp.box)}`);
  return cmp;
}

/**
 * A receiver `dsstreamsrc ! dsdepay ! pngenc` writing every picture of the
 * channel to a file; returns a function giving its newest picture. (The
 * first picture of a receiver that joins late is the relay's cached
 * keyframe, up to a keyframe interval old, before the catch-up deltas:
 * the newest one is what it shows.)
 */
function depayPictures (channel) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-screencast-'));
  const l = new Launch(`dsstreamsrc location=${relay.ws}/stream/${channel} ! dsdepay ! video/x-raw ! ` +
      `pngenc compression-level=1 ! multifilesink location=${tmp}/p%06d.png max-files=4`, { messages: false });
  running.push({
    pipeline: l.pipeline,
    get out () { return l.out; },
    // it writes into tmp until it is stopped
    stop: async () => {
      await l.stop();
      fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 5 });
    },
  });
  return async () => {
    const files = fs.readdirSync(tmp).filter((f) => /^p\d+\.png$/.test(f)).sort();
    for (const f of files.slice(0, -1).reverse()) {     // the last may be half written
      try {
        return decodePng(fs.readFileSync(path.join(tmp, f)));
      } catch (e) {
        // removed by multifilesink meanwhile
      }
    }
    return null;
  };
}

async function checkReceivers (display, channel) {
  const depayed = depayPictures(channel);
  page = await browser.context.newPage();
  await page.goto(`${relay.base}/view/${channel}`);
  await waitInPage(page, () => window.dsViewer && dsViewer.pictures >= 1, undefined, 30000);
  await waitForScreen(display, () => canvasRgba(page), `viewer-${channel}`);
  await waitForScreen(display, depayed, `dsdepay-pngenc-${channel}`);
}

stest('examples/screencast.sh: the viewer and dsdepay ! pngenc show the X screen', async () => {
  const display = await startScreen();
  // capture first, then the page appears: what it draws arrives through
  // XDamage (ximagesrc's default use-damage=true)
  const sh = new Command('sh', [path.join(SRC, 'examples', 'screencast.sh')], {
    env: {
      DISPLAY: display, RELAY: relay.ws, CHANNEL: 'desk', WIDTH: String(W), HEIGHT: String(H),
      AUDIO_SRC: 'audiotestsrc is-live=true volume=0',
    },
  });
  running.push(sh);
  // ximagesrc is capturing: the relay holds a picture of the screen
  // (sound is not cached: cache bytes are the screen's keyframe, compressed)
  await relay.waitForChannel('desk', (c) => c.cache_bytes > 0, 'picture of the screen', 30000);
  showPage(display);
  await checkReceivers(display, 'desk');
});

stest('ximagesrc ! videoconvert ! video/x-raw,format=RGBA ! dspay: the padding byte is no alpha', async () => {
  // the pipeline of the bug report: the X padding byte reaches the wire
  // as alpha (0 in black areas); every receiver draws the picture opaque
  const display = await startScreen();
  showPage(display);
  running.push(new Launch(`ximagesrc display-name=${display} ! videoconvert ! video/x-raw,format=RGBA ! ` +
      `dspay ! dsdelta ! dsrelaysink location=${relay.ws}/peer/rgba`));
  await checkReceivers(display, 'rgba');
});
