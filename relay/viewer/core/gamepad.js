/* ds-relay viewer: gamepads as GamepadAxis and GamepadButton input
 * (SPEC §4, docs/protocol.md "Gamepads")
 *
 * Copyright (C) 2026 gst-ds-stream developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Gamepad API has no events for a moved stick or a pressed button,
 * only gamepadconnected and gamepaddisconnected: while a gamepad is
 * connected the pads are read once per animation frame (at most every
 * POLL_MIN_MS) and only what changed is sent. Pure: the browser's
 * navigator.getGamepads and requestAnimationFrame are handed in, so that
 * node can import it.
 *
 * The wire has no gamepad number: gamepad g's axis or button i goes out
 * as g * GAMEPAD_STRIDE + i, for g < GAMEPAD_SLOTS and i < GAMEPAD_STRIDE
 * (gamepad 0's numbers are the browser's own).
 */

import { INPUT } from './protocol.js';

export const GAMEPAD_SLOTS = 8;
export const GAMEPAD_STRIDE = 32;
/* an axis change smaller than this is not sent; a value closer to 0 than
 * this is 0 (a resting stick's noise), so a return to the centre is
 * always sent as exactly 0 */
export const AXIS_THRESHOLD = 0.01;
/* a button's analog value changing by less than this (of 255) is not
 * sent, unless it reaches 0 or 255 */
export const BUTTON_THRESHOLD = 3;
/* at most this many frames per poll; the rest of the changes go with the
 * next polls (their last sent value is not updated) */
export const MAX_SENDS_PER_POLL = 32;
export const POLL_MIN_MS = 15;

/** A Gamepad API axis value as sent: a finite number clamped to -1..1,
 * 0 within AXIS_THRESHOLD of it; null for what is not a number (NaN,
 * ±Infinity, anything else) */
export function axisValue (v) {
  if (typeof v !== 'number' || !Number.isFinite(v))
    return null;
  if (Math.abs(v) < AXIS_THRESHOLD)
    return 0;
  return Math.max(-1, Math.min(1, v));
}

/** The wire's "pressed" byte of a GamepadButton (or of a number, as
 * very old browsers report buttons): its analog value 0..1 as 0..255;
 * a button the browser calls pressed is at least 1 (a digital button
 * that reports no value is 255) */
export function buttonValue (b) {
  let v = typeof b === 'number' ? b : (b && typeof b.value === 'number' ? b.value : NaN);
  const pressed = !!(b && typeof b === 'object' && b.pressed === true);
  if (!Number.isFinite(v))
    v = pressed ? 1 : 0;
  let byte = Math.round(Math.max(0, Math.min(1, v)) * 255);
  if (pressed && byte === 0)
    byte = 255;
  return byte;
}

/** GamepadAxis payload: axis u8, value f32 LE */
export function gamepadAxisPayload (axis, value) {
  const out = new Uint8Array(5);
  const v = new DataView(out.buffer);
  v.setUint8(0, axis);
  v.setFloat32(1, value, true);
  return out;
}

/** GamepadButton payload: button u8, pressed u8 (0..255) */
export function gamepadButtonPayload (button, pressed) {
  return new Uint8Array([button, pressed]);
}

function axisChanged (last, v) {
  return v !== last && (v === 0 || Math.abs(v) === 1 || Math.abs(v - last) >= AXIS_THRESHOLD);
}

function buttonChanged (last, v) {
  return v !== last && (v === 0 || v === 255 || Math.abs(v - last) >= BUTTON_THRESHOLD);
}

export class GamepadInput {
  /**
   * @getGamepads(): navigator.getGamepads(); @send(type, payload): sends
   * an input frame, returns whether it went out; @active(): whether
   * input may be sent now (the page is visible and focused);
   * @requestFrame/@cancelFrame: requestAnimationFrame and its cancel;
   * @stats: an object whose counters this keeps (connected, sent)
   */
  constructor ({ getGamepads, send, active, requestFrame, cancelFrame, stats = {} }) {
    this.getGamepads = getGamepads;
    this.send = send;
    this.active = active;
    this.requestFrame = requestFrame;
    this.cancelFrame = cancelFrame;
    this.stats = stats;
    stats.connected = 0;
    stats.sent = 0;
    /* wire number → the value the source holds (what went out last);
     * an absent entry is 0 */
    this.axes = new Map();
    this.buttons = new Map();
    this.frame = 0;
    this.lastPoll = -Infinity;
  }

  /** Starts polling, if it does not run (gamepadconnected, and once at
   * start: a pad may be connected before the page) */
  wake () {
    if (!this.frame)
      this.frame = this.requestFrame((t) => this.onFrame(t));
  }

  onFrame (t) {
    this.frame = 0;
    if (t - this.lastPoll < POLL_MIN_MS) {
      this.wake();
      return;
    }
    this.lastPoll = t;
    if (this.poll())
      this.wake();
  }

  /** The connected pads the wire can carry */
  pads () {
    let list;
    try {
      list = this.getGamepads() || [];
    } catch (e) {
      return [];                /* a document that may not use gamepads */
    }
    const pads = [];
    for (const p of Array.from(list)) {
      if (!p || p.connected === false || !Number.isInteger(p.index) ||
          p.index < 0 || p.index >= GAMEPAD_SLOTS)
        continue;
      pads.push(p);
    }
    return pads;
  }

  /**
   * Reads the pads once and sends what changed. While input may not be
   * sent (page hidden or not focused), and for a pad that went away,
   * what the source holds goes back to 0 (axes) and released (buttons),
   * so that nothing stays held. Returns whether to poll again.
   */
  poll () {
    const allPads = this.pads();
    this.stats.connected = allPads.length;
    const pads = this.active() ? allPads : [];
    const axes = new Map();
    const buttons = new Map();
    for (const p of pads) {
      const base = p.index * GAMEPAD_STRIDE;
      const pa = p.axes || [];
      for (let i = 0; i < Math.min(pa.length, GAMEPAD_STRIDE); i++) {
        const v = axisValue(pa[i]);
        if (v !== null)
          axes.set(base + i, v);
      }
      const pb = p.buttons || [];
      for (let i = 0; i < Math.min(pb.length, GAMEPAD_STRIDE); i++)
        buttons.set(base + i, buttonValue(pb[i]));
    }
    /* what the source holds and no pad reports any more goes to 0 */
    for (const n of this.axes.keys())
      if (!axes.has(n))
        axes.set(n, 0);
    for (const n of this.buttons.keys())
      if (!buttons.has(n))
        buttons.set(n, 0);

    let budget = MAX_SENDS_PER_POLL;
    let pending = false;
    const update = (held, now, changed, type, payload) => {
      for (const [n, v] of now) {
        const last = held.get(n) || 0;
        if (!changed(last, v))
          continue;
        if (budget <= 0 || !this.send(type, payload(n, v))) {
          pending = true;
          continue;
        }
        budget--;
        this.stats.sent++;
        if (v === 0)
          held.delete(n);
        else
          held.set(n, v);
      }
    };
    update(this.axes, axes, axisChanged, INPUT.GAMEPAD_AXIS, gamepadAxisPayload);
    update(this.buttons, buttons, buttonChanged, INPUT.GAMEPAD_BUTTON, gamepadButtonPayload);
    /* poll while a pad is connected or a release is still to go out */
    return allPads.length > 0 || pending;
  }

  /** Sends the releases now (the page lost focus or was hidden) */
  release () {
    if (this.frame) {
      this.cancelFrame(this.frame);
      this.frame = 0;
    }
    if (this.poll())
      this.wake();
  }
}
