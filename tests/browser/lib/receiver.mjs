// A plain WebSocket receiver on the relay's /stream/{channel}: collects
// frames and keeps the merged signal state (sync replaces, diff sets).

import WebSocket from 'ws';
import { parseFrame, T } from './frames.mjs';

export class Receiver {
  constructor (url) {
    this.url = url;
    this.frames = [];
    this.signals = {};
  }

  async open () {
    this.socket = new WebSocket(this.url);
    this.socket.on('message', (data, isBinary) => {
      if (!isBinary)
        return;
      const f = parseFrame(data);
      this.frames.push(f);
      if (f.type === T.SIGNAL_SYNC || f.type === T.SIGNAL_DIFF) {
        const obj = JSON.parse(f.payload.toString('utf8'));
        this.signals = f.type === T.SIGNAL_SYNC ? obj : Object.assign({}, this.signals, obj);
      }
    });
    await new Promise((resolve, reject) => {
      this.socket.once('open', resolve);
      this.socket.once('error', reject);
    });
    return this;
  }

  close () {
    this.socket?.terminate();
  }

  async waitFor (pred, what, timeout = 20000) {
    const t0 = Date.now();
    for (;;) {
      if (pred(this))
        return;
      if (Date.now() - t0 > timeout)
        throw new Error(`receiver on ${this.url}: no ${what} within ${timeout} ms ` +
            `(${this.frames.length} frames, signals ${JSON.stringify(this.signals)})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Starts Xvfb on a free display; returns { display, stop }. */
export async function startXvfb (spawn, size = '640x480x24') {
  const proc = spawn('Xvfb', ['-displayfd', '1', '-screen', '0', size, '-nolisten', 'tcp'],
      { stdio: ['ignore', 'pipe', 'ignore'] });
  const display = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('Xvfb did not start')), 10000);
    proc.stdout.on('data', (d) => {
      out += d.toString();
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(':' + out.trim());
      }
    });
    proc.once('error', (e) => { clearTimeout(timer); reject(e); });
    proc.once('exit', () => { clearTimeout(timer); reject(new Error('Xvfb exited')); });
  });
  return {
    display,
    stop: () => proc.kill('SIGTERM'),
  };
}
