// The viewer served by the real ds-relay ($DS_RELAY) from its GResource,
// with a hand-made source publishing on /peer/{channel}: the pages, the
// picture, late joiners (relay catch-up), signals with ?select, input back
// to the source, Ping, and a relay restart.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Relay, RELAY } from './lib/relay.mjs';
import { Publisher } from './lib/publisher.mjs';
import { VIEWER_SCRIPTS, FZSTD_DIR } from './lib/mock-relay.mjs';
import {
  launch, waitInPage, canvasPixel, clientPointOf, screenshotOnFailure, waitForCanvas, waitForPixel,
} from './lib/browser.mjs';
import { packFrame, rleEncodeXor, picture, T, I, FLAG_INPUT, FLAG_KEYFRAME } from './lib/frames.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const VIEWER_DIR = path.resolve(HERE, '..', '..', 'relay', 'viewer');
const skip = RELAY ? false : 'DS_RELAY is not set (ds-relay not built)';

let relay;
let browser;
let page;
const publishers = [];

before(async () => {
  if (skip)
    return;
  relay = await new Relay().start();
  browser = await launch();
});

after(async () => {
  for (const p of publishers)
    p.close();
  await browser?.close();
  await relay?.stop();
});

afterEach(async () => {
  if (page && !page.isClosed())
    await page.close();
  page = null;
});

function rtest (name, fn) {
  test(name, { skip: skip || false }, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      await screenshotOnFailure(t, page);
      throw e;
    }
  });
}

async function publish (channel) {
  const p = await new Publisher(`${relay.ws}/peer/${channel}`).open();
  publishers.push(p);
  return p;
}

async function openViewer (channel, query = '') {
  page = await browser.context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e));
  await page.goto(`${relay.base}/view/${channel}${query}`);
  await waitInPage(page, () => window.dsViewer && window.dsViewer.connected);
  return page;
}

rtest('the relay serves the viewer pages from its resources', async () => {
  for (const [url, file] of [['/', 'index.html'], ['/view/demo', 'view.html'],
    ['/viewer.js', 'viewer.js'], ['/viewer.css', 'viewer.css']]) {
    const res = await fetch(relay.base + url);
    assert.equal(res.status, 200, url);
    assert.equal(await res.text(), fs.readFileSync(path.join(VIEWER_DIR, file), 'utf8'), url);
  }
  // the ES modules: each one a browser accepts as a module script
  for (const file of VIEWER_SCRIPTS) {
    const res = await fetch(relay.base + '/' + file);
    assert.equal(res.status, 200, file);
    assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8', file);
    assert.equal(await res.text(), fs.readFileSync(path.join(VIEWER_DIR, file), 'utf8'), file);
  }
  assert.equal((await fetch(relay.base + '/core/nothing.js')).status, 404);
  // the zstd decoder and its licence, embedded at build time: the npm
  // package fzstd's files, or our stand-ins in a build without it
  const fzstd = process.env.DS_VIEWER_ZSTD !== '0';
  for (const [url, type, pkg, standIn] of [
    ['/vendor/fzstd.mjs', 'text/javascript; charset=utf-8', 'esm/index.mjs', 'fzstd-missing/fzstd.mjs'],
    ['/vendor/fzstd.LICENSE.txt', 'text/plain; charset=utf-8', 'LICENSE', 'fzstd-missing/LICENSE'],
  ]) {
    const res = await fetch(relay.base + url);
    assert.equal(res.status, 200, url);
    assert.equal(res.headers.get('content-type'), type, url);
    const want = fzstd ? path.join(FZSTD_DIR, pkg) : path.join(VIEWER_DIR, standIn);
    assert.equal(await res.text(), fs.readFileSync(want, 'utf8'), url);
  }
  if (fzstd)
    assert.match(await (await fetch(relay.base + '/vendor/fzstd.LICENSE.txt')).text(), /^MIT License/);
});

rtest('a published picture reaches the canvas through the relay', async () => {
  const pub = await publish('pix');
  await openViewer('pix');
  const w = 32, h = 16;
  pub.send(packFrame({ type: T.PIXELS, flags: FLAG_KEYFRAME, seq: 1, width: w, height: h },
      picture(w, h, (x) => (x < 16 ? [255, 0, 0] : [0, 0, 255]))));
  await waitInPage(page, () => dsViewer.pictures >= 1);
  assert.deepEqual(await canvasPixel(page, 3, 3), [255, 0, 0, 255]);
  assert.deepEqual(await canvasPixel(page, 30, 3), [0, 0, 255, 255]);
  assert.deepEqual(page.errors, []);
});

rtest('a late joiner of a DeltaPixels stream gets a correct picture at once', async () => {
  const pub = await publish('late');
  const w = 48, h = 32;
  const pics = [];
  for (let k = 0; k < 6; k++)
    pics.push(picture(w, h, (x, y) => (x === k * 5 || y === k * 4 ? [255, 255, 0] : [10, 20 + k, 30])));
  pub.send(packFrame({ type: T.DELTA_PIXELS, flags: FLAG_KEYFRAME, seq: 0, width: w, height: h }, rleEncodeXor(pics[0], null)));
  for (let k = 1; k < pics.length; k++)
    pub.send(packFrame({ type: T.DELTA_PIXELS, seq: k, width: w, height: h }, rleEncodeXor(pics[k], pics[k - 1])));
  // the viewer joins once the relay has them all
  await relay.waitForChannel('late', (c) => c.frames >= pics.length, `${pics.length} frames`);
  await openViewer('late');
  await waitInPage(page, () => dsViewer.pictures >= 1 && !dsViewer.waitingForKeyframe);
  await waitForCanvas(page, pics[pics.length - 1]);
  assert.equal(await page.evaluate(() => dsViewer.decodeErrors), 0);
});

rtest('signals: catch-up, live diffs and ?select through the relay', async () => {
  const pub = await publish('sig');
  const sig = (type, obj) => pub.send(packFrame({ type }, Buffer.from(JSON.stringify(obj))));
  sig(T.SIGNAL_SYNC, { count: 1, doubled: 2, secret: 's' });
  sig(T.SIGNAL_DIFF, { count: 2, doubled: 4 });
  await relay.waitForChannel('sig', (c) => c.frames >= 2, 'signal frames');
  await openViewer('sig', '?select=count,doubled');
  await waitInPage(page, () => dsViewer.signals.count === 2 && dsViewer.signals.doubled === 4);
  sig(T.SIGNAL_DIFF, { count: 3, doubled: 6, secret: 't' });
  await waitInPage(page, () => dsViewer.signals.count === 3);
  await page.waitForFunction(() => {
    const rows = Array.from(document.querySelectorAll('#signals tr'));
    return rows.map((r) => r.cells[0].textContent + '=' + r.cells[1].textContent).join(',') === 'count=3,doubled=6';
  }, null, { timeout: 5000 });
  assert.equal('secret' in await page.evaluate(() => dsViewer.signals), false, 'select strips other keys');
});

rtest('a click on the canvas reaches the source in its pixel space', async () => {
  const pub = await publish('click');
  await openViewer('click');
  const w = 640, h = 120;
  pub.send(packFrame({ type: T.PIXELS, flags: FLAG_KEYFRAME, seq: 1, width: w, height: h }, picture(w, h, () => [40, 40, 40])));
  await waitInPage(page, () => dsViewer.pictures >= 1);
  const from = pub.received.length;
  const pt = await clientPointOf(page, 500, 100);
  await page.mouse.click(pt.x, pt.y);
  const down = await pub.waitForFrame((f) => f.type === I.POINTER_DOWN && (f.flags & FLAG_INPUT), { from });
  assert.deepEqual([down.payload.readUInt16LE(0), down.payload.readUInt16LE(2), down.payload[4]], [500, 100, 1]);
  const up = await pub.waitForFrame((f) => f.type === I.POINTER_UP && (f.flags & FLAG_INPUT), { from });
  assert.deepEqual([up.payload.readUInt16LE(0), up.payload.readUInt16LE(2), up.payload[4]], [500, 100, 0]);
  await page.keyboard.press('ArrowLeft');
  const key = await pub.waitForFrame((f) => f.type === I.KEY_DOWN && (f.flags & FLAG_INPUT), { from });
  assert.equal(key.payload.readUInt16LE(0), 37);
});

rtest('a stream that starts with a delta asks for a keyframe that reaches the source', async () => {
  const pub = await publish('kfr');
  await openViewer('kfr');
  const w = 8, h = 8;
  const a = picture(w, h, () => [1, 1, 1]);
  const b = picture(w, h, () => [9, 9, 9]);
  pub.send(packFrame({ type: T.DELTA_PIXELS, seq: 7, width: w, height: h }, rleEncodeXor(b, a)));
  await pub.waitForFrame((f) => f.type === I.KEYFRAME_REQUEST && (f.flags & FLAG_INPUT));
  pub.send(packFrame({ type: T.PIXELS, flags: FLAG_KEYFRAME, seq: 8, width: w, height: h }, b));
  await waitInPage(page, () => dsViewer.pictures >= 1 && !dsViewer.waitingForKeyframe);
});

rtest('Ping gives _latency; the channel list shows the live channel', async () => {
  await publish('listed');
  await openViewer('listed');
  await waitInPage(page, () => dsViewer.latency !== null);
  await page.goto(relay.base + '/');
  await page.waitForFunction(() => Array.from(document.querySelectorAll('#channels a')).some((a) => a.textContent === 'listed'), null, { timeout: 5000 });
  const row = await page.$$eval('#channels tbody tr', (rs) => rs.map((r) => Array.from(r.cells).map((c) => c.textContent)).find((c) => c[0] === 'listed'));
  assert.equal(row[1], 'live');
});

rtest('after a relay restart _reconnects grows and the picture comes back', async () => {
  let pub = await publish('restart');
  await openViewer('restart');
  const w = 16, h = 16;
  pub.send(packFrame({ type: T.PIXELS, flags: FLAG_KEYFRAME, seq: 1, width: w, height: h }, picture(w, h, () => [0, 200, 0])));
  await waitInPage(page, () => dsViewer.pictures >= 1);
  await relay.restart(300);     // away long enough for the viewer to see it
  await waitInPage(page, () => dsViewer.reconnects >= 1 && dsViewer.connected, undefined, 20000);
  pub.close();
  pub = await publish('restart');
  pub.send(packFrame({ type: T.PIXELS, flags: FLAG_KEYFRAME, seq: 1, width: w, height: h }, picture(w, h, () => [200, 0, 200])));
  await waitInPage(page, () => dsViewer.pictures >= 2, undefined, 10000);
  await waitForPixel(page, 8, 8, [200, 0, 200, 255]);
  await page.waitForFunction(() => Number(document.getElementById('s-reconnects').textContent) >= 1);
});

rtest('?token= reaches a relay that wants a subscribe token', async () => {
  const secured = await new Relay(['--subscribe-token', 's3cret']).start();
  try {
    page = await browser.context.newPage();
    await page.goto(`${secured.base}/view/locked`);
    await waitInPage(page, () => dsViewer.reconnects >= 1, undefined, 10000);
    assert.equal(await page.evaluate(() => dsViewer.connected), false);
    await page.goto(`${secured.base}/view/locked?token=s3cret`);
    await waitInPage(page, () => dsViewer.connected, undefined, 10000);
  } finally {
    await secured.stop();
  }
});
