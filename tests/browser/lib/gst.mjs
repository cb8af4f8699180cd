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

/** A running program; output (stdout and stderr) is kept in .out. */
export class Command {
  /* @base: the environment @env is added to (default: this one with the
   * build folder as the plugin path) */
  constructor (cmd, args, { stdin = 'ignore', env = {}, cwd, base = gstEnv() } = {}) {
    this.pipeline = [cmd, ...args].join(' ');
    this.out = '';
    // a process group of its own, so stop() reaches a script's children
    this.proc = spawn(cmd, args, { env: Object.assign(base, env), cwd, detached: true,
      stdio: [stdin, 'pipe', 'pipe'] });
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
        throw new Error(`${this.pipeline} exited (${this.proc.exitCode}) before ${re}:\n${this.out.slice(-3000)}`);
      if (Date.now() - t0 > timeout)
        throw new Error(`${this.pipeline} did not print ${re} within ${timeout} ms:\n${this.out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  signal (sig) {
    try {
      process.kill(-this.proc.pid, sig);
    } catch (e) {
      // already gone
    }
  }

  /** SIGINT to the group (gst-launch -e sends EOS), SIGKILL after 5 s. */
  async stop () {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
      this.signal('SIGKILL');   // leftovers of a script
      return;
    }
    this.signal('SIGINT');
    const t = setTimeout(() => this.signal('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(t);
    this.signal('SIGKILL');
  }
}

/** A running gst-launch-1.0 (with -m: element messages on stdout). */
export class Launch extends Command {
  constructor (pipeline, { messages = true, stdin = 'ignore' } = {}) {
    super('gst-launch-1.0', [...(messages ? ['-m'] : []), ...pipeline.split(/\s+/).filter((s) => s)], { stdin });
    this.pipeline = pipeline;
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
