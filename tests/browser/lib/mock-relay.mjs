// A tiny stand-in for ds-relay, for testing the viewer on its own: it
// serves relay/viewer/ at the relay's URLs, answers /channels with
// whatever the test sets, and accepts receivers on /stream/{channel}. The
// test sends hand-made frames and reads what the page sent back. Pings are
// echoed like the relay does (SPEC §6.6).

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { parseFrame, T } from './frames.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const VIEWER_DIR = process.env.DS_VIEWER_DIR ||
    path.resolve(HERE, '..', '..', '..', 'relay', 'viewer');

const FILES = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/viewer.css': ['viewer.css', 'text/css; charset=utf-8'],
};
// the script and its ES modules (viewer.js, core/*.js, app/*.js)
export const VIEWER_SCRIPTS = ['viewer.js',
  ...['core', 'app'].flatMap((dir) => fs.readdirSync(path.join(VIEWER_DIR, dir))
      .filter((f) => f.endsWith('.js')).map((f) => dir + '/' + f))];
for (const f of VIEWER_SCRIPTS)
  FILES['/' + f] = [f, 'text/javascript; charset=utf-8'];
// the zstd decoder, as relay/meson.build embeds it: the npm package fzstd
// from relay/viewer/node_modules (npm ci there), else our stand-in (also
// when a test sets relay.fzstd = false, to see a relay built without it)
export const FZSTD_DIR = path.join(VIEWER_DIR, 'node_modules', 'fzstd');
export const HAVE_FZSTD = fs.existsSync(path.join(FZSTD_DIR, 'esm', 'index.mjs'));
const VENDOR = {
  '/vendor/fzstd.mjs': [path.join(FZSTD_DIR, 'esm', 'index.mjs'),
    'fzstd-missing/fzstd.mjs', 'text/javascript; charset=utf-8'],
  '/vendor/fzstd.LICENSE.txt': [path.join(FZSTD_DIR, 'LICENSE'),
    'fzstd-missing/LICENSE', 'text/plain; charset=utf-8'],
};

export class MockRelay {
  constructor () {
    this.channels = [];
    this.sources = new Map(); // channel → has a source (default true)
    this.seen = new Set();    // channels someone connected to
    this.clients = [];        // open receiver sockets, newest last
    this.received = [];       // frames from receivers: parsed, with .channel
    this.connections = 0;
    this.fzstd = HAVE_FZSTD;  // serve the package (else the stand-in)
    this.server = http.createServer((req, res) => this.onHttp(req, res));
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      const m = req.url.match(/^\/stream\/([A-Za-z0-9._-]{1,64})(\?.*)?$/);
      if (!m) {
        socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onClient(ws, m[1], req.url));
    });
  }

  async start () {
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = this.server.address().port;
    this.base = `http://127.0.0.1:${this.port}`;
    return this;
  }

  async stop () {
    for (const ws of this.wss.clients)
      ws.terminate();
    await new Promise((resolve) => this.server.close(resolve));
  }

  onHttp (req, res) {
    const url = new URL(req.url, 'http://x');
    let file = FILES[url.pathname];
    const vendor = VENDOR[url.pathname];
    if (vendor)
      file = [this.fzstd ? vendor[0] : vendor[1], vendor[2]];
    if (!file && /^\/view\/[^/]+$/.test(url.pathname))
      file = ['view.html', 'text/html; charset=utf-8'];
    const one = url.pathname.match(/^\/channels\/([A-Za-z0-9._-]{1,64})$/);
    if (one) {
      // like ds-relay: a channel exists from its first connection (ds-relay
      // keeps an empty one for --idle-grace); it has a source unless a
      // test says otherwise (sources)
      const name = one[1];
      if (!this.seen.has(name)) {
        res.writeHead(404);
        res.end('no such channel\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name, source: this.sources.get(name) ?? true }));
      return;
    }
    if (url.pathname === '/channels') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(this.channels));
      return;
    }
    if (!file) {
      res.writeHead(404);
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': file[1] });
    res.end(fs.readFileSync(path.resolve(VIEWER_DIR, file[0])));
  }

  onClient (ws, channel, url) {
    this.connections++;
    ws.channel = channel;
    ws.requestUrl = url;
    this.seen.add(channel);
    this.clients.push(ws);
    ws.on('message', (data, isBinary) => {
      if (!isBinary)
        return;
      const f = parseFrame(data);
      f.channel = channel;
      if (f.type === T.PING && !(f.flags & 1)) {
        // echo to the sender alone; with firstPingDelay set, the first
        // echo of a connection comes that much later (behind a catch-up);
        // with pingDelays, the n-th echo of a connection comes
        // pingDelays[n] ms later (0 past its end)
        const n = ws.pings || 0;
        ws.pings = n + 1;
        const delay = this.pingDelays ? this.pingDelays[n] || 0
          : n === 0 ? this.firstPingDelay || 0 : 0;
        if (delay)
          setTimeout(() => ws.readyState === 1 && ws.send(data), delay);
        else
          ws.send(data);
        f.echoed = true;
      }
      this.received.push(f);
    });
    ws.on('close', () => {
      this.clients = this.clients.filter((c) => c !== ws);
    });
  }

  /** Sends a frame to every receiver (of @channel when given). */
  send (frame, channel) {
    for (const ws of this.clients)
      if (!channel || ws.channel === channel)
        ws.send(frame);
  }

  /** Waits until @n receivers connected in all (counting closed ones). */
  async waitForConnections (n, timeout = 10000) {
    const t0 = Date.now();
    while (this.connections < n || this.clients.length === 0) {
      if (Date.now() - t0 > timeout)
        throw new Error(`no receiver connected within ${timeout} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.clients[this.clients.length - 1];
  }

  async waitForClient (n = 1, timeout = 10000) {
    const t0 = Date.now();
    while (this.clients.length < n) {
      if (Date.now() - t0 > timeout)
        throw new Error(`no receiver connected within ${timeout} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.clients[this.clients.length - 1];
  }

  /** Waits for a received frame matching @pred that came after @from. */
  async waitForFrame (pred, { from = 0, timeout = 10000 } = {}) {
    const t0 = Date.now();
    for (;;) {
      const f = this.received.slice(from).find(pred);
      if (f)
        return f;
      if (Date.now() - t0 > timeout)
        throw new Error(`expected frame not received within ${timeout} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Drops every receiver connection (as a relay restart would). */
  dropClients () {
    for (const ws of this.clients)
      ws.terminate();
    this.clients = [];
  }
}
