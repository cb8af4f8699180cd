// The viewer given several relays of a cluster (issue 15: "the viewer
// accepts a list too"): a nats-server ($NATS_SERVER, else
// /usr/sbin/nats-server) and two real ds-relay --cluster nodes, A and B,
// on free loopback ports, each allowing the other's pages
// (--allowed-origin). A hand-made source publishes a picture and a
// counter signal on A; the viewer is opened on B with ?relays=B,A and
// shows them through the cluster. B is killed (SIGKILL): the viewer must
// move to A by itself, get A's catch-up as any joiner (the exact picture,
// not greyed; the live count from a SignalSync, not greyed) and say it is
// on A (top bar, connection table, stats overlay). The time from the kill
// is printed; the bound is loose so that a loaded machine does not fail
// it. Then the source leaves, and the viewer, asking A (another origin
// than its page's) for /channels/{name}, says so. A wrong list is
// refused in the page, saying what is wrong, and nothing connects. Last,
// B back, a viewer on A, A stopped (SIGSTOP: its sockets open and
// silent): the viewer leaves it for B once its Pings go unanswered.
// Skipped without nats-server or with a relay built without libnats.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { Relay, RELAY } from './lib/relay.mjs';
import { Publisher } from './lib/publisher.mjs';
import { launch, waitInPage, waitForCanvas, waitUntil, screenshotOnFailure } from './lib/browser.mjs';
import { packFrame, picture, T, FLAG_KEYFRAME } from './lib/frames.mjs';

const NATS_SERVER = process.env.NATS_SERVER || '/usr/sbin/nats-server';
const CHANNEL = 'failover';
// from the kill to the viewer showing the picture and the live count via A
const LOOSE_BOUND_MS = 10000;

let skip = !RELAY ? 'DS_RELAY is not set (ds-relay not built)' :
  !fs.existsSync(NATS_SERVER) ? `no nats-server at ${NATS_SERVER} (apt-get install nats-server)` : false;

let nats, relayA, relayB, browser, page, source, ticker;

function freePort () {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function accepts (port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

/** ds_relay_cluster_nodes of @relay's /metrics */
async function clusterNodes (relay) {
  const text = await (await fetch(relay.base + '/metrics')).text();
  const m = text.match(/^ds_relay_cluster_nodes (\d+)/m);
  return m ? Number(m[1]) : -1;
}

/* nats-server on a free port; another free one if it is taken meanwhile
 * (other tests run in parallel) */
async function startNats () {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const proc = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    let exited = false;
    proc.once('exit', () => { exited = true; });
    await waitUntil(async () => exited || await accepts(port), `nats-server listening on ${port}`);
    if (!exited)
      return { proc, url: `nats://127.0.0.1:${port}` };
    if (attempt === 5)
      throw new Error('nats-server did not start on 5 free ports');
  }
}

/* The two nodes, each told the other's port before either starts: free
 * ports chosen first, again if one is taken before its relay listens */
async function startNodes (natsUrl) {
  for (let attempt = 1; ; attempt++) {
    const portA = await freePort();
    let portB = await freePort();
    while (portB === portA)
      portB = await freePort();
    try {
      await startPair(natsUrl, portA, portB);
      return;
    } catch (e) {
      await relayA?.stop();
      await relayB?.stop();
      if (/without NATS support/.test(e.message) || attempt === 5)
        throw e;
      console.log(`# starting the nodes on ${portA}, ${portB} failed, again: ${e.message}`);
    }
  }
}

async function startPair (natsUrl, portA, portB) {
  // each node's pages may connect to the other (and read its /channels)
  // and both hand out the same list, in the same order
  const handOut = ['--viewer-relay', `ws://127.0.0.1:${portA}`, '--viewer-relay', `ws://127.0.0.1:${portB}`];
  relayA = new Relay(['--cluster', natsUrl, '--node-id', 'a',
    '--allowed-origin', `http://127.0.0.1:${portB}`, ...handOut]);
  relayB = new Relay(['--cluster', natsUrl, '--node-id', 'b',
    '--allowed-origin', `http://127.0.0.1:${portA}`, ...handOut]);
  relayA.port = portA;
  relayB.port = portB;
  await relayA.start();
  await relayB.start();
}

before(async () => {
  if (skip)
    return;
  let natsUrl;
  ({ proc: nats, url: natsUrl } = await startNats());
  try {
    await startNodes(natsUrl);
  } catch (e) {
    if (/without NATS support/.test(e.message)) {
      skip = 'ds-relay was built without libnats (-Dnats)';
      return;
    }
    throw e;
  }
  await waitUntil(async () => await clusterNodes(relayA) === 1 && await clusterNodes(relayB) === 1,
    'the two nodes seeing each other');
  browser = await launch({ width: 900, height: 600 });
});

after(async () => {
  clearInterval(ticker);
  source?.close();
  await browser?.close();
  await relayB?.stop();
  await relayA?.stop();
  nats?.kill('SIGKILL');
});

function ctest (name, fn) {
  test(name, { skip: skip || false, timeout: 120000 }, async (t) => {
    if (skip) {
      t.skip(skip);
      return;
    }
    try {
      await fn(t);
    } catch (e) {
      await screenshotOnFailure(t, page);
      console.error('# relay A log:\n' + relayA.log.join(''));
      console.error('# relay B log:\n' + relayB.log.join(''));
      throw e;
    }
  });
}

const W = 64, H = 48;
const PICTURE = picture(W, H, (x, y) => [(x * 4) & 255, (y * 5) & 255, x === y ? 255 : 40]);

ctest('the relays\' --viewer-relay list: each page starts on its own relay', async () => {
  for (const [own, other] of [[relayA, relayB], [relayB, relayA]]) {
    page = await browser.context.newPage();
    await page.goto(`${own.base}/view/${CHANNEL}`);
    await waitInPage(page, () => window.dsViewer && dsViewer.connected);
    assert.deepEqual(await page.evaluate(() => [dsViewer.relaysFrom, dsViewer.relays, dsViewer.relay]),
      ['relay', [own.ws, other.ws], own.ws]);
    await page.close();
  }
  page = null;
  // and a wrong one is refused at start
  const r = spawnSync(RELAY, ['--port', '0', '--viewer-relay', 'http://127.0.0.1:1'], { encoding: 'utf8', timeout: 10000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--viewer-relay "http:\/\/127\.0\.0\.1:1": not a ws:\/\/ or wss:\/\/ URL/);
});

ctest('kill -9 of the viewer\'s relay: it moves to the next of ?relays= and gets the catch-up there', async () => {
  // the source on A: a picture, then a count every 100 ms
  source = await new Publisher(`${relayA.ws}/peer/${CHANNEL}`).open();
  let count = 0;
  let sigSeq = 0;
  const sendCount = (type) => source.send(packFrame({ type, seq: sigSeq++ },
    Buffer.from(JSON.stringify({ count }))));
  source.send(packFrame({ type: T.PIXELS, flags: FLAG_KEYFRAME, width: W, height: H }, PICTURE));
  sendCount(T.SIGNAL_SYNC);
  ticker = setInterval(() => { count++; sendCount(T.SIGNAL_DIFF); }, 100);

  page = await browser.context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e));
  const list = `${relayB.ws},${relayA.ws}`;
  await page.goto(`${relayB.base}/view/${CHANNEL}?relays=${list}`);
  // through the cluster: B watches the channel, A's frames come over NATS
  await waitInPage(page, ([b]) => window.dsViewer && dsViewer.connected && dsViewer.relay === b &&
    dsViewer.pictures >= 1 && dsViewer.signals.count >= 1, [relayB.ws], 15000);
  await waitForCanvas(page, PICTURE);
  assert.deepEqual(await page.evaluate(() => dsViewer.relays), [relayB.ws, relayA.ws]);
  assert.match(await page.textContent('#st-relay'), new RegExp(`127\\.0\\.0\\.1:${relayB.port} · 1/2`));
  assert.equal(await page.textContent('#s-relay'), relayB.ws);

  const killed = new Promise((resolve) => relayB.proc.once('exit', resolve));
  const countAtKill = count;
  const t0 = performance.now();
  relayB.proc.kill('SIGKILL');
  await killed;
  // on A: connected, the picture of A's catch-up drawn (not greyed), a
  // count the source sent after the kill, from a SignalSync (not greyed)
  await waitInPage(page, ([a, c]) => dsViewer.connected && dsViewer.relay === a &&
    !dsViewer.pictureStale && !dsViewer.signalsStale && dsViewer.signals.count > c,
  [relayA.ws, countAtKill], LOOSE_BOUND_MS);
  const ms = performance.now() - t0;
  console.log(`# from the kill of B to the picture and the live count via A: ${ms.toFixed(0)} ms`);
  await waitForCanvas(page, PICTURE);
  const s = await page.evaluate(() => ({ reconnects: dsViewer.reconnects, idx: dsViewer.relayIndex,
    lost: dsViewer.lostRelay, view: dsViewer.view }));
  assert.equal(s.idx, 1);
  assert.equal(s.lost, relayB.ws);
  assert.equal(s.view, 'picture');
  assert.ok(s.reconnects >= 1);
  // says it is on A: the top bar, the connection table, the stats overlay
  assert.match(await page.textContent('#st-relay'), new RegExp(`127\\.0\\.0\\.1:${relayA.port} · 2/2`));
  assert.equal(await page.textContent('#s-relay'), relayA.ws);
  await page.click('#stats-button');
  await page.waitForFunction((a) => {
    const row = document.querySelector('#stats tr[data-name="relay"]');
    return row && row.cells[1].textContent === a + ' (2 of 2)';
  }, relayA.ws, { timeout: 5000 });
  // the live count keeps coming from A
  const later = count;
  await waitInPage(page, (c) => dsViewer.signals.count >= c, later, 5000);

  // the source leaves: the viewer asks A (not its page's origin) for
  // /channels/{name}, which needs A's CORS answer, and says so
  clearInterval(ticker);
  source.close();
  await waitInPage(page, () => dsViewer.view === 'picture-no-source', null, 15000);
  assert.match(await page.textContent('#notice'), /No source on this channel now/);
  assert.deepEqual(page.errors.map(String), []);
  await page.close();
  page = null;
});

ctest('a wrong ?relays= is said in the page and nothing connects', async () => {
  page = await browser.context.newPage();
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await page.goto(`${relayA.base}/view/${CHANNEL}?relays=${relayA.ws},http://127.0.0.1:1`);
  await waitInPage(page, () => window.dsViewer && dsViewer.view === 'bad-relays');
  const notice = await page.textContent('#notice');
  assert.match(notice, /relay 2 of 2, "http:\/\/127\.0\.0\.1:1", is not a ws:\/\/ or wss:\/\/ URL/);
  assert.match(notice, /Nothing is connected/);
  assert.equal(await page.textContent('#st-connected'), 'not connected');
  assert.equal(await page.textContent('#st-relay'), 'relays: wrong');
  // the page decides before it would open its WebSocket (synchronously in start)
  assert.deepEqual(sockets, []);
  await page.close();
  // one relay from the address is named too: it need not be the page's
  page = await browser.context.newPage();
  await page.goto(`${relayA.base}/view/${CHANNEL}?relays=${relayA.ws}`);
  await waitInPage(page, () => window.dsViewer && dsViewer.connected);
  assert.equal(await page.isVisible('#st-relay'), true);
  assert.equal(await page.textContent('#st-relay'), `127.0.0.1:${relayA.port} · 1/1`);
  await page.close();
  page = null;
});

ctest('/channels answers pages of --allowed-origin origins only (CORS)', async () => {
  const get = async (origin, url = `${relayA.base}/channels/${CHANNEL}`) => {
    const res = await fetch(url, { headers: { Origin: origin } });
    await res.arrayBuffer();
    return res.headers.get('access-control-allow-origin');
  };
  const b = `http://127.0.0.1:${relayB.port}`;
  assert.equal(await get(b), b);
  assert.equal(await get(b, `${relayA.base}/channels`), b);
  assert.equal(await get(b, `${relayA.base}/channels/no-such-channel`), b);  // the 404 too
  assert.equal(await get('http://127.0.0.1:1'), null);
  assert.equal(await get('http://evil.example'), null);
  assert.equal(await get('null'), null);
});

ctest('a node that stops answering without closing (SIGSTOP) is left for the next', async () => {
  // B again, on its port, back in the cluster
  await relayB.start();
  await waitUntil(async () => await clusterNodes(relayA) === 1 && await clusterNodes(relayB) === 1,
    'B back in the cluster');
  page = await browser.context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e));
  await page.goto(`${relayA.base}/view/${CHANNEL}?relays=${relayA.ws},${relayB.ws}`);
  await waitInPage(page, (a) => window.dsViewer && dsViewer.connected && dsViewer.relay === a, relayA.ws);
  // A's sockets stay open and silent: only the unanswered Pings tell
  const t0 = performance.now();
  relayA.proc.kill('SIGSTOP');
  try {
    await waitInPage(page, (b) => dsViewer.connected && dsViewer.relay === b, relayB.ws, 45000);
  } finally {
    relayA.proc.kill('SIGCONT');
  }
  const ms = performance.now() - t0;
  console.log(`# from SIGSTOP of A to the viewer connected to B: ${ms.toFixed(0)} ms`);
  // not before a Ping went unanswered for 15 s
  assert.ok(ms >= 15000, `left A after ${ms} ms`);
  assert.equal(await page.evaluate(() => dsViewer.lostRelay), relayA.ws);
  assert.deepEqual(page.errors.map(String), []);
  await page.close();
  page = null;
});

