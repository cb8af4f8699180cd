// Runs browser test files with node's test runner, for meson:
//   node run.mjs viewer.test.mjs [more.test.mjs …]
// Installs the npm dependencies (package-lock.json) on first use and exits
// 77 (meson: skipped) with the reason when Chromium or npm is missing.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SKIP = 77;
const chromium = process.env.DS_CHROMIUM || '/usr/bin/chromium';

if (!fs.existsSync(chromium)) {
  console.log(`# SKIP: no Chromium at ${chromium} (apt-get install chromium)`);
  process.exit(SKIP);
}

const deps = ['playwright-core', 'ws'];
const installed = () => deps.every((d) => fs.existsSync(path.join(HERE, 'node_modules', d, 'package.json')));
{
  // meson runs the browser tests in parallel: one installs, the others
  // wait for it and do not see a half-done install (a lock directory,
  // held for milliseconds when all is installed; one older than npm ci's
  // 5 minutes and one more is stale)
  const lock = path.join(HERE, '.npm-ci.lock');
  const t0 = Date.now();
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST')
        throw e;
    }
    let age = 0;
    try {
      age = Date.now() - fs.statSync(lock).mtimeMs;
    } catch (e) {
      continue;               // just released
    }
    if (age > 360000)
      fs.rmSync(lock, { recursive: true, force: true });
    else if (Date.now() - t0 > 600000) {
      console.log(`# SKIP: ${lock} held for 10 minutes`);
      process.exit(SKIP);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  try {
    if (!installed()) {
      console.log('# installing the browser tests\' npm dependencies (npm ci)');
      const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'],
          { cwd: HERE, stdio: 'inherit', timeout: 300000 });
      if (r.error || r.status !== 0) {
        console.log('# SKIP: npm ci failed in tests/browser: ' + (r.error ? r.error.message : 'exit ' + r.status));
        process.exitCode = SKIP;
      }
    }
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
  if (process.exitCode === SKIP)
    process.exit(SKIP);
}

// whole files that cannot run here are reported to meson as skipped
const names = process.argv.slice(2);
if (names.some((f) => /relay|gst|examples/.test(f)) && !process.env.DS_RELAY) {
  console.log('# SKIP: DS_RELAY is not set (ds-relay not built)');
  process.exit(SKIP);
}
if (names.some((f) => /gst/.test(f))) {
  const { elementsMissing } = await import('./lib/gst.mjs');
  const why = elementsMissing(['dspay', 'dsdelta', 'dsrelaysink']);
  if (why) {
    console.log('# SKIP: ' + why);
    process.exit(SKIP);
  }
}

const files = names.map((f) => path.resolve(HERE, f));
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=1', ...files],
    { cwd: HERE, stdio: 'inherit', env: process.env });
process.exit(r.status === null ? 1 : r.status);
