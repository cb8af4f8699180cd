// Runs the real ds-relay ($DS_RELAY) on a free loopback port: started
// with --port 0, it prints "ds-relay: listening on http://127.0.0.1:PORT/"
// as its first stdout line. restart() brings it back on the same port.

import { spawn } from 'node:child_process';
import readline from 'node:readline';

export const RELAY = process.env.DS_RELAY;

export class Relay {
  constructor (extraArgs = []) {
    this.extraArgs = extraArgs;
    this.port = 0;
    this.log = [];
  }

  async start () {
    const args = ['--port', String(this.port), ...this.extraArgs];
    const proc = spawn(RELAY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stderr.on('data', (d) => this.log.push(d.toString()));
    const lines = readline.createInterface({ input: proc.stdout });
    const first = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('ds-relay printed no port within 10 s')), 10000);
      lines.once('line', (l) => { clearTimeout(timer); resolve(l); });
      proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`ds-relay exited with ${code}: ${this.log.join('')}`)); });
    });
    lines.on('line', (l) => this.log.push(l + '\n'));
    const m = first.match(/^ds-relay: listening on http:\/\/127\.0\.0\.1:(\d+)\/$/);
    if (!m)
      throw new Error('unexpected first line from ds-relay: ' + first);
    this.port = Number(m[1]);
    this.base = `http://127.0.0.1:${this.port}`;
    this.ws = `ws://127.0.0.1:${this.port}`;
    return this;
  }

  async stop () {
    const proc = this.proc;
    // exited, or killed by a signal (kill -9 by a test: exitCode stays null)
    if (!proc || proc.exitCode !== null || proc.signalCode !== null)
      return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }

  /** The relay's /channels entry of @name, or undefined. */
  async channel (name) {
    const res = await fetch(this.base + '/channels');
    const body = await res.json();
    return (body.channels || body).find((c) => c.name === name);
  }

  /**
   * Polls /channels until @pred(entry of @name) is true (what the relay
   * has received: frames, signals, cached_deltas, source …); returns the
   * entry.
   */
  async waitForChannel (name, pred, what, timeout = 15000) {
    const t0 = Date.now();
    let ch;
    for (;;) {
      ch = await this.channel(name).catch(() => undefined);
      if (ch && pred(ch))
        return ch;
      if (Date.now() - t0 > timeout)
        throw new Error(`relay channel ${name}: no ${what} within ${timeout} ms (${JSON.stringify(ch)})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stops and starts again on the same port (retrying while it is in use). */
  async restart (downMs = 0) {
    await this.stop();
    // the time the relay is away is what the caller tests, not a wait
    if (downMs)
      await new Promise((r) => setTimeout(r, downMs));
    for (let i = 0; ; i++) {
      try {
        return await this.start();
      } catch (e) {
        if (i >= 100)
          throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}
