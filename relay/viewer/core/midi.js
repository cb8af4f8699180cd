/* ds-relay viewer: Web MIDI as Midi input (SPEC §4, docs/protocol.md
 * "MIDI")
 *
 * Copyright (C) 2026 gst-ds-stream developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Access is asked for only when the person asks (the page's MIDI button,
 * or ?midi=1 in the page's address): requestMIDIAccess() may show a
 * permission prompt, which a page that merely shows a stream should not.
 * Channel messages go out as status, d1, d2 (d2 = 0 for the two-byte
 * program change and channel pressure); system exclusive, system common
 * and real-time messages (the clock's 0xF8 comes 24 times a beat) are
 * dropped. Pure: requestMIDIAccess is handed in, so that node can import
 * it.
 */

import { INPUT } from './protocol.js';

/* more than this many messages in one second are dropped (MIDI 1.0's own
 * wire carries about 1000 three-byte messages a second) */
export const MIDI_MAX_PER_SECOND = 1000;

/** The Midi payload [status, d1, d2] of one Web MIDI message (a
 * MIDIMessageEvent's data), or null when it is not a channel message
 * with its data bytes */
export function midiPayload (data) {
  if (!data || typeof data.length !== 'number' || data.length < 1)
    return null;
  const status = data[0];
  /* < 0x80: a data byte (Web MIDI expands running status);
   * 0xF0-0xFF: system exclusive, system common, real-time */
  if (!Number.isInteger(status) || status < 0x80 || status >= 0xf0)
    return null;
  const kind = status & 0xf0;
  const size = kind === 0xc0 || kind === 0xd0 ? 2 : 3;
  if (data.length < size)
    return null;
  const d1 = data[1];
  const d2 = size === 3 ? data[2] : 0;
  if (!Number.isInteger(d1) || d1 < 0 || d1 > 0x7f ||
      !Number.isInteger(d2) || d2 < 0 || d2 > 0x7f)
    return null;
  return new Uint8Array([status, d1, d2]);
}

export class MidiInput {
  /**
   * @requestMIDIAccess: navigator.requestMIDIAccess bound to navigator,
   * or undefined where the browser has none; @send(type, payload): sends
   * an input frame, returns whether it went out; @active(): whether input
   * may be sent now; @now(): ms; @onChange(): the state changed;
   * @stats: an object whose fields this keeps (state: 'off',
   * 'unavailable', 'requesting', 'on' or 'denied'; inputs, sent,
   * ignored: not a channel message, dropped: inactive page or over the
   * rate; error)
   */
  constructor ({ requestMIDIAccess, send, active, now, onChange = () => {}, stats = {} }) {
    this.request = requestMIDIAccess;
    this.send = send;
    this.active = active;
    this.now = now;
    this.onChange = onChange;
    this.stats = stats;
    Object.assign(stats, {
      state: requestMIDIAccess ? 'off' : 'unavailable',
      inputs: 0, sent: 0, ignored: 0, dropped: 0, error: null,
    });
    this.attached = new Set();
    this.windowStart = -Infinity;
    this.windowCount = 0;
  }

  get available () {
    return !!this.request;
  }

  /** Asks for MIDI access (once) and listens to every input, those
   * plugged in later too */
  async enable () {
    const stats = this.stats;
    if (!this.request || stats.state === 'requesting' || stats.state === 'on')
      return;
    stats.state = 'requesting';
    stats.error = null;
    this.onChange();
    let access;
    try {
      access = await this.request({ sysex: false });
    } catch (e) {
      stats.state = 'denied';
      stats.error = String(e && e.message ? e.message : e);
      this.onChange();
      return;
    }
    this.access = access;
    access.onstatechange = () => this.attachAll();
    stats.state = 'on';
    this.attachAll();
  }

  attachAll () {
    const inputs = this.access && this.access.inputs;
    if (inputs && typeof inputs.values === 'function') {
      for (const input of inputs.values()) {
        if (!input || this.attached.has(input))
          continue;
        this.attached.add(input);
        /* setting onmidimessage opens the port */
        input.onmidimessage = (e) => this.onMessage(e);
      }
    }
    this.stats.inputs = this.attached.size;
    this.onChange();
  }

  onMessage (e) {
    const stats = this.stats;
    const payload = midiPayload(e && e.data);
    if (!payload) {
      stats.ignored++;
      return;
    }
    if (!this.active()) {
      stats.dropped++;
      return;
    }
    const t = this.now();
    if (t - this.windowStart >= 1000) {
      this.windowStart = t;
      this.windowCount = 0;
    }
    if (this.windowCount >= MIDI_MAX_PER_SECOND) {
      stats.dropped++;
      return;
    }
    this.windowCount++;
    if (this.send(INPUT.MIDI, payload))
      stats.sent++;
    else
      stats.dropped++;
  }
}
