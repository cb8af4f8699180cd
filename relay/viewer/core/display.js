/* ds-relay viewer: drawing pictures on the canvas
 *
 * The decoder's picture (RGBA bytes) through putImageData, at most once
 * per display frame; CompressedPixels through createImageBitmap;
 * EncodedVideo's decoded VideoFrames through drawImage or, where that is
 * the slower way, VideoFrame.copyTo (RGBA) and putImageData.
 */

/* A VideoFrame reaches the canvas one of two ways, and which is faster
 * depends on the browser: drawImage, cheap where the canvas is drawn on
 * the GPU, costs 20-35 ms a 1080p frame in Chromium without one (the
 * canvas drawn in software: headless, a blocklisted driver, a virtual
 * machine), more than a 30 fps frame's time, so the decoder falls
 * behind; copyTo with format RGBA and putImageData take 2-6 ms there
 * (docs/benchmarks.md, issue 14). The first VIDEO_TRIALS frames each
 * way are timed, in turn, and the faster way is kept. */
const VIDEO_TRIALS = 5;
/* The way chosen is kept in the browser for a day: the trials cost a new
 * page 100-200 ms of its main thread while it joins (the first draw each
 * way touches fresh memory: 45-65 ms here), when its decoder has a
 * catch-up to work through. A day: a new GPU or driver gets a new trial. */
const VIDEO_WAY_KEY = 'ds-viewer-video-way';
const VIDEO_WAY_MAX_AGE_MS = 24 * 3600 * 1000;

function rememberedVideoWay () {
  try {
    const [way, at] = (localStorage.getItem(VIDEO_WAY_KEY) || '').split(' ');
    const age = Date.now() - Number(at);
    if ((way === 'drawImage' || way === 'copyTo') && age >= 0 && age < VIDEO_WAY_MAX_AGE_MS)
      return way;
  } catch (e) {
    /* no storage (a sandboxed frame, a privacy setting): trials */
  }
  return null;
}

function rememberVideoWay (way) {
  try {
    localStorage.setItem(VIDEO_WAY_KEY, way + ' ' + Date.now());
  } catch (e) {
    /* not kept */
  }
}

function median (values) {
  const v = [...values].sort((a, b) => a - b);
  return v[v.length >> 1];
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/* Pictures are opaque (docs/protocol.md §3): the alpha byte on the wire
 * is not transparency (a screencast sent as RGBA may carry the X
 * screen's padding byte there, 0 in black areas), so it is set to 255
 * before drawing. Deltas XOR each byte on its own, so the reference's
 * red, green and blue stay exact; only the alpha the next delta decodes
 * to changes, and it is set again. */
export function makeOpaque (bytes) {
  if ((bytes.byteOffset & 3) !== 0) {
    for (let i = 3; i < bytes.length; i += 4)
      bytes[i] = 255;
    return;
  }
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
  const alpha = LITTLE_ENDIAN ? 0xff000000 : 0xff;
  for (let i = 0; i < words.length; i++)
    words[i] |= alpha;
}

export class Display {
  /**
   * @canvas: the picture's canvas; @onSize(w, h): the picture size
   * changed; @onDrawn(kind, timestamp): a picture was drawn ('decoded',
   * 'compressed' or 'video'; for 'video' the frame's timestamp in ms,
   * called when its pixels are on the canvas); @onImageError(): an image
   * could not be decoded
   */
  constructor (canvas, { onSize, onDrawn, onImageError }) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d', { alpha: false });
    this.onSize = onSize;
    this.onDrawn = onDrawn;
    this.onImageError = onImageError;
    this.source = null;         /* () => { bytes, width, height } or null */
    this.drawPending = false;
    this.bitmapGeneration = 0;
    /* 'drawImage' or 'copyTo' once chosen (or as chosen by an earlier
     * page of this browser, VIDEO_WAY_KEY); the trial times before */
    this.videoWay = rememberedVideoWay();
    this.videoTimes = { drawImage: [], copyTo: [] };
    this.rgbaSpare = null;
    this.width = 0;
    this.height = 0;
  }

  setSize (w, h) {
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    const changed = this.width !== w || this.height !== h;
    this.width = w;
    this.height = h;
    this.onSize(w, h, changed);
  }

  drawPicture () {
    this.drawPending = false;
    const pic = this.source ? this.source() : null;
    if (!pic)
      return;
    this.bitmapGeneration++;    /* an image or video frame still on its way is older */
    this.setSize(pic.width, pic.height);
    makeOpaque(pic.bytes);
    const pixels = new Uint8ClampedArray(pic.bytes.buffer, pic.bytes.byteOffset, pic.bytes.byteLength);
    this.ctx.putImageData(new ImageData(pixels, pic.width, pic.height), 0, 0);
    this.onDrawn('decoded');
  }

  /** Draws the decoder's current picture, once per display frame however
   * many frames arrive; @source() gives it at drawing time */
  schedulePicture (source) {
    this.source = source;
    if (this.drawPending)
      return;
    this.drawPending = true;
    if (document.hidden)
      setTimeout(() => this.drawPicture(), 0);
    else
      requestAnimationFrame(() => this.drawPicture());
  }

  /** Draws a decoded VideoFrame (EncodedVideo) at its display size; the
   * caller closes it (the copyTo way keeps a clone until its pixels are
   * drawn, unless a newer picture came first) */
  drawVideoFrame (frame) {
    const generation = ++this.bitmapGeneration; /* an image still decoding is older */
    const way = this.chooseVideoWay(frame);
    if (way === 'copyTo') {
      this.copyVideoFrame(frame, generation);
      return;
    }
    const t0 = performance.now();
    this.setSize(frame.displayWidth, frame.displayHeight);
    this.ctx.drawImage(frame, 0, 0, frame.displayWidth, frame.displayHeight);
    this.timeVideoWay('drawImage', performance.now() - t0);
    this.onDrawn('video', frame.timestamp / 1000);
  }

  /* The way to draw @frame: the chosen one, or the one with fewer trials;
   * drawImage for a frame whose display size is not its visible size
   * (putImageData does not scale) or without copyTo */
  chooseVideoWay (frame) {
    const rect = frame.visibleRect;
    if (!rect || rect.width !== frame.displayWidth ||
        rect.height !== frame.displayHeight || typeof frame.copyTo !== 'function')
      return 'drawImage';
    if (this.videoWay)
      return this.videoWay;
    const t = this.videoTimes;
    return t.drawImage.length <= t.copyTo.length ? 'drawImage' : 'copyTo';
  }

  timeVideoWay (way, ms) {
    if (this.videoWay)
      return;
    const t = this.videoTimes;
    t[way].push(ms);
    if (t.drawImage.length >= VIDEO_TRIALS && t.copyTo.length >= VIDEO_TRIALS) {
      this.videoWay = median(t.copyTo) < median(t.drawImage) ? 'copyTo' : 'drawImage';
      rememberVideoWay(this.videoWay);
    }
  }

  copyVideoFrame (frame, generation) {
    const w = frame.displayWidth;
    const h = frame.displayHeight;
    const ts = frame.timestamp / 1000;
    const t0 = performance.now();
    const copy = frame.clone();
    /* one buffer is kept for the next frame (putImageData copies it) */
    let rgba = this.rgbaSpare;
    this.rgbaSpare = null;
    if (!rgba || rgba.length !== w * h * 4)
      rgba = new Uint8ClampedArray(w * h * 4);
    copy.copyTo(rgba, { format: 'RGBA' }).then(() => {
      copy.close();
      if (generation === this.bitmapGeneration) {
        this.setSize(w, h);
        this.ctx.putImageData(new ImageData(rgba, w, h), 0, 0);
      }
      this.timeVideoWay('copyTo', performance.now() - t0);
      this.rgbaSpare = rgba;
      /* else a newer picture came first */
      if (generation === this.bitmapGeneration)
        this.onDrawn('video', ts);
    }, () => {
      /* no RGBA conversion in this browser: drawImage from now on (this
       * frame is lost, the next one is drawn) */
      copy.close();
      this.videoWay = 'drawImage';
      rememberVideoWay(this.videoWay);
    });
  }

  /** Draws a PNG or WebP image (CompressedPixels) */
  drawImage (payload) {
    const generation = ++this.bitmapGeneration;
    createImageBitmap(new Blob([payload])).then((bitmap) => {
      if (generation !== this.bitmapGeneration) {
        bitmap.close();
        return;                 /* a newer picture came first */
      }
      this.setSize(bitmap.width, bitmap.height);
      /* an image with transparency is drawn over black, not over the
       * picture before it */
      this.ctx.fillStyle = '#000';
      this.ctx.fillRect(0, 0, bitmap.width, bitmap.height);
      this.ctx.drawImage(bitmap, 0, 0);
      bitmap.close();
      this.onDrawn('compressed');
    }, () => {
      this.onImageError();
    });
  }

  setStale (stale) {
    this.canvas.classList.toggle('stale', stale);
  }

  /* Maps a point in CSS pixels (client coordinates) to the source picture's
   * pixel space, undoing object-fit: contain. Returns null outside. */
  toSource (clientX, clientY) {
    if (!this.width)
      return null;
    const box = this.canvas.getBoundingClientRect();
    const scale = Math.min(box.width / this.width, box.height / this.height);
    if (!(scale > 0))
      return null;
    const offX = (box.width - this.width * scale) / 2;
    const offY = (box.height - this.height * scale) / 2;
    const x = (clientX - box.left - offX) / scale;
    const y = (clientY - box.top - offY) / scale;
    if (x < 0 || y < 0 || x >= this.width || y >= this.height)
      return null;
    return { x: Math.floor(x), y: Math.floor(y) };
  }
}
