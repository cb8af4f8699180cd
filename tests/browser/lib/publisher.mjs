// A hand-made source on the relay's /peer/{channel}: sends frames, keeps
// what the relay sends back (input frames, ReceiverCount, Ping echoes).

import WebSocket from 'ws';
import { parseFrame } from './frames.mjs';

export class Publisher {
  constructor (url) {
    this.url = url;
    this.received = [];
  }

  async open () {
    this.socket = new WebSocket(this.url);
    this.socket.on('message', (data, isBinary) => {
      if (isBinary)
        this.received.push(parseFrame(data));
    });
    await new Promise((resolve, reject) => {
      this.socket.once('open', resolve);
      this.socket.once('error', reject);
    });
    return this;
  }

  send (frame) {
    this.socket.send(frame);
  }

  close () {
    this.socket?.terminate();
  }

  async waitForFrame (pred, { from = 0, timeout = 10000 } = {}) {
    const t0 = Date.now();
    for (;;) {
      const f = this.received.slice(from).find(pred);
      if (f)
        return f;
      if (Date.now() - t0 > timeout)
        throw new Error(`expected frame not received by the publisher within ${timeout} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
