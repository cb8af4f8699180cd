// gst-launch-1.0 publishers for the end-to-end browser tests, with the
// build folder as the plugin path.

import { spawn, spawnSync } from 'node:child_process';

export function gstEnv () {
  const env = Object.assign({}, process.env);
  if (process.env.DS_BUILD_ROOT) {
    env.GST_PLUGIN_PATH_1_0 = process.env.DS_BUILD_ROOT;
    env.GST_PLUGIN_PATH = process.env.DS_BUILD_ROOT;
  }
  return env;
}

/** Why the ds elements cannot run a pipeline yet, or null when they can. */
export function elementsMissing (names) {
  const missing = [];
  for (const name of names) {
    const r = spawnSync('gst-inspect-1.0', [name], { env: gstEnv(), encoding: 'utf8', timeout: 60000 });
    if (r.status !== 0 || !/SINK template|SRC template/.test(r.stdout || ''))
      missing.push(name);
  }
  return missing.length ? `elements not available or still placeholders: ${missing.join(', ')}` : null;
}

/** A running gst-launch-1.0 (with -m: element messages on stdout). */
export class Launch {
  constructor (pipeline, { messages = true, stdin = 'ignore' } = {}) {
    this.pipeline = pipeline;
    this.out = '';
    const args = [...(messages ? ['-m'] : []), ...pipeline.split(/\s+/).filter((s) => s)];
    this.proc = spawn('gst-launch-1.0', args, { env: gstEnv(), stdio: [stdin, 'pipe', 'pipe'] });
    this.proc.stdout.on('data', (d) => { this.out += d.toString(); });
    this.proc.stderr.on('data', (d) => { this.out += d.toString(); });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
  }

  write (text) {
    this.proc.stdin.write(text);
  }

  /** Waits until the output matches @re; returns the match. */
  async waitFor (re, timeout = 15000) {
    const t0 = Date.now();
    for (;;) {
      const m = this.out.match(re);
      if (m)
        return m;
      if (this.proc.exitCode !== null)
        throw new Error(`gst-launch-1.0 exited (${this.proc.exitCode}) before ${re}:\n${this.out.slice(-3000)}`);
      if (Date.now() - t0 > timeout)
        throw new Error(`gst-launch-1.0 did not print ${re} within ${timeout} ms:\n${this.out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop () {
    if (this.proc.exitCode !== null)
      return;
    this.proc.kill('SIGINT');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(t);
  }
}

/** Runs a pipeline to its end and returns its exit code. */
export function runToEnd (pipeline, timeout = 60000) {
  const r = spawnSync('gst-launch-1.0', ['-q', ...pipeline.split(/\s+/).filter((s) => s)],
      { env: gstEnv(), encoding: 'utf8', timeout });
  if (r.status !== 0)
    throw new Error(`gst-launch-1.0 ${pipeline} failed: ${r.stderr || r.stdout}`);
  return r;
}
