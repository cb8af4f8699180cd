// The X screen as a reference picture for the screencast tests: a real
// page shown by Chromium (not headless) on Xvfb, the root window read back
// with xwd (x11-apps) and parsed here, a minimal PNG reader for what
// `dsdepay ! pngenc` writes, and a pixel comparison.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { CHROMIUM } from './browser.mjs';

export const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/**
 * A page with known pixels and real structure: black and white areas,
 * saturated colours, grey steps, text. Served on a free loopback port.
 */
export const TEST_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>screen</title><style>
html, body { margin: 0; background: #fff; font: 16px sans-serif; overflow: hidden; }
.row { display: flex; }
.row div { width: 60px; height: 60px; }
h1 { margin: 8px; font-size: 22px; color: #000; }
p { margin: 8px; }
#black { background: #000; color: #fff; width: 420px; height: 70px; padding: 6px; }
</style></head><body>
<h1>ds-stream screencast test</h1>
<div class="row">
  <div style="background:#000"></div><div style="background:#ff0000"></div>
  <div style="background:#00ff00"></div><div style="background:#0000ff"></div>
  <div style="background:#ffff00"></div><div style="background:#00ffff"></div>
  <div style="background:#ff00ff"></div><div style="background:#808080"></div>
  <div style="background:#010203"></div><div style="background:#fefdfc"></div>
</div>
<div id="black">white text on black, the padding byte of X is 0 here</div>
<p>Plain text: The quick brown fox jumps over the lazy dog. 0123456789</p>
</body></html>`;

/** Serves @html on 127.0.0.1; returns { url, close }. */
export async function servePage (html = TEST_PAGE) {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * Chromium, not headless, showing @url in an app window at the top left of
 * @display. Returns { proc, stop }.
 */
export function showOnX (display, url, { width = 560, height = 380, x = 20, y = 20 } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-xscreen-profile-'));
  const proc = spawn(CHROMIUM, [
    '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--ozone-platform=x11',
    '--hide-scrollbars', '--force-device-scale-factor=1',
    `--user-data-dir=${profile}`, `--window-position=${x},${y}`,
    `--window-size=${width},${height}`, `--app=${url}`,
  ], { env: Object.assign({}, process.env, { DISPLAY: display }), stdio: 'ignore', detached: true });
  return {
    proc,
    stop: () => {
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch (e) {
        // gone already
      }
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The root window of @display as { width, height, rgba } (alpha 255). */
export function xwdRoot (display) {
  const r = spawnSync('xwd', ['-root', '-silent', '-display', display], { maxBuffer: 1 << 28, timeout: 20000 });
  if (r.status !== 0)
    throw new Error('xwd failed: ' + (r.stderr || '').toString());
  return parseXwd(r.stdout);
}

function maskShift (mask) {
  let shift = 0;
  while (mask && !(mask & 1)) {
    mask >>>= 1;
    shift++;
  }
  return [shift, mask];
}

/** Parses an XWD file of a 24/32-bit TrueColor ZPixmap. */
export function parseXwd (buf) {
  const u = (i) => buf.readUInt32BE(i * 4);
  const headerSize = u(0), format = u(2), width = u(4), height = u(5);
  const byteOrder = u(7), bpp = u(11), bpl = u(12);
  const masks = [u(14), u(15), u(16)];
  const ncolors = u(19);
  if (u(1) !== 7 || format !== 2 || (bpp !== 32 && bpp !== 24))
    throw new Error(`unsupported xwd: version ${u(1)}, format ${format}, ${bpp} bpp`);
  const data = headerSize + ncolors * 12;
  const shifts = masks.map(maskShift);
  const rgba = Buffer.alloc(width * height * 4);
  const bytes = bpp / 8;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = data + y * bpl + x * bytes;
      let v = 0;
      for (let k = 0; k < bytes; k++)
        v |= buf[o + (byteOrder === 0 ? k : bytes - 1 - k)] << (8 * k);
      v >>>= 0;
      const d = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) {
        const [s, m] = shifts[c];
        rgba[d + c] = Math.round(((v >>> s) & m) * 255 / m);
      }
      rgba[d + 3] = 255;
    }
  }
  return { width, height, rgba };
}

/** Decodes an 8-bit, non-interlaced RGB or RGBA PNG (what pngenc writes). */
export function decodePng (buf) {
  let pos = 8, width = 0, height = 0, colorType = 0;
  const idat = [];
  while (pos + 8 <= buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('ascii', pos + 4, pos + 8);
    const body = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      colorType = body[9];
      if (body[8] !== 8 || body[12] !== 0 || (colorType !== 2 && colorType !== 6))
        throw new Error(`unsupported PNG: depth ${body[8]}, colour type ${colorType}, interlace ${body[12]}`);
    } else if (type === 'IDAT') {
      idat.push(body);
    }
    pos += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const bpp = colorType === 6 ? 4 : 3, stride = width * bpp;
  const cur = Buffer.alloc(stride), prev = Buffer.alloc(stride);
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      let p;
      if (f === 0) p = 0;
      else if (f === 1) p = a;
      else if (f === 2) p = b;
      else if (f === 3) p = (a + b) >> 1;
      else {
        const q = a + b - c, pa = Math.abs(q - a), pb = Math.abs(q - b), pc = Math.abs(q - c);
        p = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c);
      }
      cur[i] = (line[i] + p) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      const d = (y * width + x) * 4;
      rgba[d] = cur[x * bpp];
      rgba[d + 1] = cur[x * bpp + 1];
      rgba[d + 2] = cur[x * bpp + 2];
      rgba[d + 3] = bpp === 4 ? cur[x * bpp + 3] : 255;
    }
    cur.copy(prev);
  }
  return { width, height, rgba };
}

/**
 * Compares two RGBA pictures of one size, pixel by pixel and all four
 * bytes. Returns { total, matching, percent, box } where box bounds the
 * pixels that differ (null when none do).
 */
export function comparePictures (a, b) {
  if (a.width !== b.width || a.height !== b.height)
    throw new Error(`sizes differ: ${a.width}x${a.height} and ${b.width}x${b.height}`);
  let matching = 0, x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  const total = a.width * a.height;
  for (let i = 0; i < total; i++) {
    const o = i * 4;
    if (a.rgba[o] === b.rgba[o] && a.rgba[o + 1] === b.rgba[o + 1] &&
        a.rgba[o + 2] === b.rgba[o + 2] && a.rgba[o + 3] === b.rgba[o + 3]) {
      matching++;
      continue;
    }
    const x = i % a.width, y = Math.floor(i / a.width);
    x0 = Math.min(x0, x); y0 = Math.min(y0, y);
    x1 = Math.max(x1, x); y1 = Math.max(y1, y);
  }
  return {
    total,
    matching,
    percent: 100 * matching / total,
    box: x1 < 0 ? null : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 },
  };
}
