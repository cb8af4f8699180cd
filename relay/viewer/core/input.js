/* ds-relay viewer: input back to the source (SPEC §4)
 *
 * Pointer, touch, keys, wheel and the viewport size, in the source
 * picture's pixel space, handed to @send(type, payload) as input
 * payloads.
 */

import { INPUT } from './protocol.js';

function u16 (v) {
  return Math.max(0, Math.min(0xffff, Math.round(v)));
}

function i16 (v) {
  return Math.max(-0x8000, Math.min(0x7fff, Math.round(v)));
}

function pointerPayload (p, buttons) {
  const out = new Uint8Array(5);
  const v = new DataView(out.buffer);
  v.setUint16(0, u16(p.x), true);
  v.setUint16(2, u16(p.y), true);
  v.setUint8(4, buttons & 0x07);
  return out;
}

/* modifiers bit0 shift, bit1 ctrl, bit2 alt, bit3 meta */
function modifiers (e) {
  return (e.shiftKey ? 1 : 0) | (e.ctrlKey ? 2 : 0) | (e.altKey ? 4 : 0) | (e.metaKey ? 8 : 0);
}

export class Input {
  /**
   * @canvas: where the events come from; @toSource(clientX, clientY):
   * the point in source pixels, or null; @send(type, payload): sends an
   * input frame, returns whether it went out; @canSend(): connected
   */
  constructor (canvas, { toSource, send, canSend }) {
    this.canvas = canvas;
    this.toSource = toSource;
    this.send = send;
    this.canSend = canSend;
    this.lastResize = '';
  }

  onPointer (type, e) {
    const p = this.toSource(e.clientX, e.clientY);
    if (!p)
      return;
    if (e.pointerType === 'touch' && !e.isPrimary && type === INPUT.POINTER_UP)
      return;
    if (e.pointerType === 'touch' && type !== INPUT.POINTER_UP) {
      const t = new Uint8Array(5);
      const v = new DataView(t.buffer);
      v.setUint8(0, e.pointerId & 0xff);
      v.setUint16(1, u16(p.x), true);
      v.setUint16(3, u16(p.y), true);
      this.send(INPUT.TOUCH, t);
      if (!e.isPrimary || type === INPUT.POINTER)
        return;
    }
    /* PointerEvent.buttons already has the wire's bits: 1 left, 2 right,
     * 4 middle, held after the event */
    this.send(type, pointerPayload(p, e.buttons));
  }

  onKey (type, e) {
    if (!e.keyCode)
      return;
    const out = new Uint8Array(3);
    const v = new DataView(out.buffer);
    v.setUint16(0, e.keyCode, true);
    v.setUint8(2, modifiers(e));
    this.send(type, out);
    /* keep keys for the source, except the browser's own reload/devtools */
    if (!(e.keyCode === 116 || e.keyCode === 123 || (e.ctrlKey && e.keyCode === 82)))
      e.preventDefault();
  }

  onWheel (e) {
    e.preventDefault();
    /* wire units follow WheelEvent pixels (about 100 per notch) */
    let k = 1;
    if (e.deltaMode === 1)
      k = 40;
    else if (e.deltaMode === 2)
      k = 800;
    const out = new Uint8Array(4);
    const v = new DataView(out.buffer);
    v.setInt16(0, i16(e.deltaX * k), true);
    v.setInt16(2, i16(e.deltaY * k), true);
    this.send(INPUT.SCROLL, out);
  }

  /** Sends the viewport size when connected and it is not the size sent
   * last */
  sendResize () {
    const box = this.canvas.getBoundingClientRect();
    const w = u16(box.width);
    const h = u16(box.height);
    const key = w + 'x' + h;
    if (this.canSend() && key !== this.lastResize) {
      const out = new Uint8Array(4);
      const v = new DataView(out.buffer);
      v.setUint16(0, w, true);
      v.setUint16(2, h, true);
      this.send(INPUT.RESIZE, out);
      this.lastResize = key;
    }
  }

  install () {
    const canvas = this.canvas;
    canvas.addEventListener('pointermove', (e) => {
      const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
      this.onPointer(INPUT.POINTER, events.length ? events[events.length - 1] : e);
    });
    canvas.addEventListener('pointerdown', (e) => {
      canvas.focus();
      canvas.setPointerCapture(e.pointerId);
      this.onPointer(INPUT.POINTER_DOWN, e);
    });
    canvas.addEventListener('pointerup', (e) => this.onPointer(INPUT.POINTER_UP, e));
    canvas.addEventListener('contextmenu', (e) => e.preventDefault());
    canvas.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    canvas.addEventListener('keydown', (e) => this.onKey(INPUT.KEY_DOWN, e));
    canvas.addEventListener('keyup', (e) => this.onKey(INPUT.KEY_UP, e));

    let resizeTimer = 0;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => this.sendResize(), 150);
    });
  }
}
