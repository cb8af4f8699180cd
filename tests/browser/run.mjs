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
if (!deps.every((d) => fs.existsSync(path.join(HERE, 'node_modules', d, 'package.json')))) {
  console.log('# installing the browser tests\' npm dependencies (npm ci)');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'],
      { cwd: HERE, stdio: 'inherit', timeout: 300000 });
  if (r.error || r.status !== 0) {
    console.log('# SKIP: npm ci failed in tests/browser: ' + (r.error ? r.error.message : 'exit ' + r.status));
    process.exit(SKIP);
  }
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
