// The guide, run as written: every `sh` block of docs/first-ten-minutes.md
// and of the README's "Using the elements", in order, read from the
// documents themselves. A comment before each block says how it runs
// here (`<!-- guide-test: KIND [name=N] [ready=…] [check=…] -->`):
//
//   setup            the set-up step: run with --no-build (this build is
//                    the one under test), it must succeed
//   run              run to its end, it must exit 0 within 120 s
//   background       starts and keeps running (the relay, a publisher):
//                    ready="TEXT" waits for TEXT in its output,
//                    ready=source:CHANNEL for the relay to have a source
//                    on CHANNEL; it must still run when the page is done
//   live=N           a receiver: it runs N seconds without exiting or
//                    printing an ERROR (check=source:CHANNEL also waits
//                    for the relay to see its source)
//   skip (why)       not run here (the set-up commands CI runs anyway)
//
// A block without such a comment fails the test: a new block in the guide
// is either run here or said not to be. The substitutions a headless run
// needs, and nothing else: free ports for 9100 (also ds-relay's default)
// and 9443, fakesink for the
// screen and the speakers, audiotestsrc for the microphone, an Xvfb
// display for ximagesrc. What the guide tells a reader to do in the
// browser (open the viewer, click in the middle of the picture) Chromium
// does, and the test checks what the guide says will happen. The blocks
// run in a folder of their own whose entries point at the source tree,
// and `build` at the build under test; GStreamer is given no plugin path:
// the blocks' own `export GST_PLUGIN_PATH=$PWD/build` must do it.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { RELAY } from './lib/relay.mjs';
import { Command, elementsMissing } from './lib/gst.mjs';
import { startXvfb } from './lib/receiver.mjs';
import { launch, waitInPage, clientPointOf, screenshotOnFailure } from './lib/browser.mjs';
import { stubDevices } from './lib/devices.mjs';
import { WebSocket } from 'ws';

const SRC = process.env.DS_SOURCE_ROOT || path.resolve(import.meta.dirname ?? '.', '..', '..');
const BUILD = process.env.DS_BUILD_ROOT || path.join(SRC, 'build');
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const skip = !RELAY ? 'DS_RELAY is not set (ds-relay not built)' :
  elementsMissing(['dspay', 'dsdelta', 'dsrelaysink', 'dsstreamsrc', 'dsdepay']) ||
  (have('openssl') ? null : 'openssl missing') ||
  (have('Xvfb') ? null : 'Xvfb missing');

/* ---- the documents ---- */

/**
 * The fenced blocks of a Markdown file: { lang, code, line, how } where
 * @how is the parsed guide-test comment before the block (or null).
 */
export function readBlocks (file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const blocks = [];
  let how = null;
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i].match(/^<!-- guide-test: (.*?) -->$/);
    if (m) {
      how = parseHow(m[1]);
      continue;
    }
    const fence = lines[i].match(/^```(\w*)\s*$/);
    if (!fence)
      continue;
    const start = i;
    const code = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++)
      code.push(lines[i]);
    blocks.push({ lang: fence[1], code: code.join('\n') + '\n', line: start + 1, how });
    how = null;
  }
  return blocks;
}

function parseHow (text) {
  const how = { kind: null, opts: {} };
  const words = text.replace(/^skip\s*\(.*\)$/, 'skip').match(/[\w-]+(=("[^"]*"|\S+))?/g) || [];
  for (const w of words) {
    const [k, ...rest] = w.split('=');
    const v = rest.join('=').replace(/^"|"$/g, '');
    if (!how.kind && !rest.length)
      how.kind = k;
    else if (k === 'live') {
      how.kind = 'live';
      how.opts.seconds = Number(v);
    } else
      how.opts[k] = v;
  }
  return how;
}

/* ---- running blocks ---- */

async function freePort () {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

// a folder that looks like the top of the source tree: its entries point
// at the source, `build` at the build under test
function workdir () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-guide-'));
  for (const e of fs.readdirSync(SRC))
    if (!['build', 'out', '.git'].includes(e) && !e.startsWith('build-'))
      fs.symlinkSync(path.join(SRC, e), path.join(dir, e));
  fs.symlinkSync(BUILD, path.join(dir, 'build'));
  return dir;
}

// the environment of a new terminal: no plugin path, no test variables
function terminalEnv (dir, extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^GST_PLUGIN_PATH/.test(k) && !/^DS_/.test(k))
      env[k] = v;
  env.GST_REGISTRY = path.join(dir, '.registry.bin');
  return Object.assign(env, extra);
}

function substitute (code, ports) {
  return code
    // a relay on its default port listens on the main port's stand-in
    .replace(/(\.\/build\/relay\/ds-relay)(?![^\n]*(--port|-p ))/g, `$1 --port ${ports.main}`)
    .replace(/\b9100\b/g, String(ports.main))
    .replace(/\b9443\b/g, String(ports.tls))
    .replace(/\bautovideosink\b/g, 'fakesink')
    .replace(/\bautoaudiosink\b/g, 'fakesink')
    .replace(/\bautoaudiosrc\b/g, 'audiotestsrc is-live=true')
    .replace(/\bgst-play-1\.0 /g, 'gst-play-1.0 --videosink=fakesink --audiosink=fakesink ');
}

async function httpJson (url) {
  try {
    const res = await fetch(url);
    return res.ok ? await res.json() : null;
  } catch (e) {
    return null;
  }
}

async function waitForSource (port, channel, cmd, timeout = 20000) {
  const t0 = Date.now();
  for (;;) {
    const info = await httpJson(`http://127.0.0.1:${port}/channels/${channel}`);
    if (info && info.source === true)
      return;
    if (cmd && cmd.proc.exitCode !== null)
      throw new Error(`exited (${cmd.proc.exitCode}) before channel ${channel} had a source:\n${cmd.out.slice(-3000)}`);
    if (Date.now() - t0 > timeout)
      throw new Error(`no source on channel ${channel} within ${timeout} ms` +
          (cmd ? `:\n${cmd.out.slice(-3000)}` : ''));
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class GuideRun {
  constructor (file) {
    this.file = file;
    this.running = [];
    this.hooks = {};
  }

  async start ({ display } = {}) {
    this.dir = workdir();
    this.ports = { main: await freePort(), tls: await freePort() };
    this.env = terminalEnv(this.dir, display ? { DISPLAY: display } : {});
  }

  async stop () {
    for (const c of this.running.splice(0).reverse())
      await c.stop();
    if (this.dir)
      fs.rmSync(this.dir, { recursive: true, force: true });
  }

  spawn (code) {
    const c = new Command('bash', ['-c', code], { cwd: this.dir, base: this.env });
    this.running.push(c);
    return c;
  }

  where (b) {
    return `${path.relative(SRC, this.file)}:${b.line}`;
  }

  async runAll () {
    const blocks = readBlocks(this.file);
    // a shell block fenced otherwise does not escape the rule
    const sh = blocks.filter((b) => ['sh', 'bash', 'shell', 'console'].includes(b.lang));
    assert.ok(sh.length > 0, `no sh blocks in ${this.file}`);
    for (const b of sh) {
      assert.ok(b.how && b.how.kind, `${this.where(b)}: an sh block without a <!-- guide-test: … --> comment`);
      await this.runBlock(b, blocks);
    }
    // what keeps running must still be running at the end
    for (const c of this.running.filter((x) => x.background))
      assert.equal(c.proc.exitCode, null, `${c.where} exited (${c.proc.exitCode}):\n${c.out.slice(-3000)}`);
  }

  async runBlock (b, blocks) {
    const { kind, opts } = b.how;
    let code = substitute(b.code, this.ports);
    const label = `${this.where(b)} (${kind}${opts.name ? ' ' + opts.name : ''})`;
    console.log(`# ${label}`);
    switch (kind) {
      case 'skip':
        return;
      case 'setup':
        assert.match(code, /scripts\/demo\.sh/, `${label}: the set-up step runs scripts/demo.sh`);
        code = code.replace(/scripts\/demo\.sh/, 'scripts/demo.sh --no-build');
        // falls through
      case 'run': {
        const c = this.spawn(code);
        const t = setTimeout(() => c.signal('SIGKILL'), 120000);
        const status = await c.exited;
        clearTimeout(t);
        assert.equal(status, 0, `${label} failed (exit ${status}):\n${c.out.slice(-4000)}`);
        break;
      }
      case 'background': {
        const c = this.spawn(code);
        c.background = true;
        c.where = label;
        if (opts.ready?.startsWith('source:'))
          await waitForSource(this.ports.main, opts.ready.slice(7), c);
        else if (opts.ready)
          await c.waitFor(new RegExp(opts.ready.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 20000);
        if (opts.name && this.hooks[opts.name])
          await this.hooks[opts.name](c, b, blocks);
        break;
      }
      case 'live': {
        const c = this.spawn(code);
        if (opts.check?.startsWith('source:'))
          await waitForSource(this.ports.main, opts.check.slice(7), c);
        // check=receiving:CHANNEL: the relay has a receiver on CHANNEL
        // and sends it frames while the block runs
        const receiving = opts.check?.startsWith('receiving:') ? opts.check.slice(10) : null;
        const stat = () => httpJson(`http://127.0.0.1:${this.ports.main}/channels/${receiving}`);
        let first = null;
        let last = null;
        const t0 = Date.now();
        while (Date.now() - t0 < opts.seconds * 1000 && c.proc.exitCode === null) {
          await sleep(100);
          if (receiving) {
            const st = await stat();
            if (st && st.receivers >= 1) {
              first ??= st;
              last = st;
            }
          }
        }
        if (receiving) {
          assert.ok(first, `${label}: no receiver on channel ${receiving} while it ran:\n${c.out.slice(-3000)}`);
          assert.ok(last.frames_out > first.frames_out, `${label}: the relay sent no frames on ` +
              `${receiving} while it ran (frames_out ${first.frames_out} -> ${last.frames_out})`);
        }
        assert.equal(c.proc.exitCode, null, `${label} exited (${c.proc.exitCode}) within ` +
            `${opts.seconds} s:\n${c.out.slice(-4000)}`);
        assert.doesNotMatch(c.out, /\bERROR\b|CRITICAL/, `${label} printed an error:\n${c.out.slice(-4000)}`);
        await c.stop();
        this.running = this.running.filter((x) => x !== c);
        break;
      }
      default:
        assert.fail(`${label}: unknown guide-test kind ${kind}`);
    }
  }
}

/* ---- the documents, run ---- */

let browser;
let page;
let run;

after(async () => {
  await browser?.close();
});

afterEach(async () => {
  if (page && !page.isClosed())
    await page.close();
  page = null;
  await run?.stop();
  run = null;
});

async function guideTest (name, fn) {
  test(name, { skip: skip || false, timeout: 300000 }, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      await screenshotOnFailure(t, page);
      for (const c of run?.running || [])
        console.error(`# ${c.where || c.pipeline}\n${c.out.slice(-2000)}`);
      throw e;
    }
  });
}

async function openPage (url, { devices = false } = {}) {
  browser ??= await launch({ width: 1100, height: 620 });
  if (page && !page.isClosed())
    await page.close();
  page = await browser.context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e));
  // a gamepad and a MIDI keyboard, as a reader may have
  if (devices)
    await page.addInitScript(stubDevices);
  await page.goto(url);
  return page;
}

guideTest('docs/first-ten-minutes.md works when followed literally', async () => {
  run = new GuideRun(path.join(SRC, 'docs', 'first-ten-minutes.md'));
  await run.start();
  const base = () => `http://127.0.0.1:${run.ports.main}`;

  // step 4: the channel list links demo; the viewer shows the picture,
  // the signals and the connection
  run.hooks.publish = async () => {
    await openPage(`${base()}/`);
    await page.waitForSelector('#channels a:text-is("demo")', { timeout: 15000 });
    await page.click('#channels a:text-is("demo")');
    await page.waitForURL(/\/view\/demo$/);
    await waitInPage(page, () => window.dsViewer && dsViewer.view === 'picture' &&
        dsViewer.width === 640 && dsViewer.height === 360 && dsViewer.signals.count > 0 &&
        dsViewer.signals.doubled === dsViewer.signals.count * 2, undefined, 20000);
    assert.deepEqual(page.errors, []);
  };

  // step 5: a click in the middle of the picture, then a gamepad's left
  // stick half left with its A button, then a MIDI middle C (after the
  // MIDI button) print what the guide shows (the lines after "…")
  run.hooks.input = async (c, b, blocks) => {
    const i = blocks.indexOf(b);
    const shown = (k) => {
      assert.ok(blocks[k] && blocks[k].lang === '', `the guide shows what step 5 prints (block ${k})`);
      return blocks[k].code.trim().split('\n').map((l) => l.replace(/^…\s*/, ''));
    };
    const printed = async (line) => c.waitFor(new RegExp(line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 15000);
    const [click] = shown(i + 1);
    const [axis, button, midi] = shown(i + 2);
    await openPage(`${base()}/view/clicks`, { devices: true });
    await waitInPage(page, () => window.dsViewer && dsViewer.view === 'picture' && dsViewer.width === 640,
        undefined, 20000);
    const pt = await clientPointOf(page, 320, 180);
    await page.mouse.click(pt.x, pt.y);
    await printed(click);
    await page.evaluate(() => dsTestPad(0, [-0.5], [1]));
    await printed(axis);
    await printed(button);
    await page.click('#midi');
    await waitInPage(page, () => document.getElementById('midi').textContent === 'MIDI · 1');
    await page.evaluate(() => dsTestMidi([0x90, 60, 100]));
    await printed(midi);
  };

  // step 7: the TLS relay serves its page under the allowed host name,
  // and a page's WebSocket under that name is let in; under another name
  // it is refused (the --allowed-host check)
  run.hooks.remote = async () => {
    const get = (p, host) => new Promise((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port: run.ports.tls, path: p, rejectUnauthorized: false,
        headers: { Host: `${host}:${run.ports.tls}`, Origin: `https://${host}:${run.ports.tls}` } },
      (res) => { res.resume(); resolve(res.statusCode); });
      req.on('error', reject);
    });
    const upgrade = (host) => new Promise((resolve) => {
      const ws = new WebSocket(`wss://127.0.0.1:${run.ports.tls}/stream/demo`, {
        rejectUnauthorized: false, headers: { Host: `${host}:${run.ports.tls}` },
        origin: `https://${host}:${run.ports.tls}`,
      });
      ws.on('open', () => { ws.close(); resolve(101); });
      ws.on('unexpected-response', (req, res) => { res.resume(); resolve(res.statusCode); });
      ws.on('error', () => resolve(-1));
    });
    assert.equal(await get('/healthz', 'relay.example'), 200);
    assert.equal(await get('/view/demo', 'relay.example'), 200);
    assert.equal(await upgrade('relay.example'), 101, 'the allowed host name is let in');
    assert.equal(await upgrade('other.example'), 403, 'another host name is refused');
  };

  await run.runAll();
});

guideTest('the README\'s usage blocks work as written', async () => {
  const x = await startXvfb(spawn, '640x480x24');
  try {
    run = new GuideRun(path.join(SRC, 'README.md'));
    await run.start({ display: x.display });
    await run.runAll();
    // what the blocks wrote and published
    assert.ok(fs.statSync(path.join(run.dir, 'pattern.ds')).size > 100 * 16);
  } finally {
    await run?.stop();
    x.stop();
  }
});
