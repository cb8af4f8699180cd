// The viewer's gamepad and MIDI input in node alone (no Chromium):
// core/gamepad.js against stand-in pads and animation frames, core/midi.js
// against a stand-in requestMIDIAccess: the payloads, what is sent and
// what is not (changes only, thresholds, the budget per poll, releases
// when a pad goes or the page loses the focus), hostile values (NaN,
// Infinity, out of range, data bytes > 127, sysex, real-time, running
// status) and the MIDI rate bound.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const VIEWER = path.resolve(HERE, '..', '..', 'relay', 'viewer');
const gp = await import(pathToFileURL(path.join(VIEWER, 'core', 'gamepad.js')));
const midi = await import(pathToFileURL(path.join(VIEWER, 'core', 'midi.js')));
const { INPUT } = await import(pathToFileURL(path.join(VIEWER, 'core', 'protocol.js')));

const f32 = (x) => Math.fround(x);

// what a source would see: the payloads decoded as dsprotocol.c does
function decode (type, p) {
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  if (type === INPUT.GAMEPAD_AXIS)
    return ['axis', p[0], v.getFloat32(1, true), p.length];
  if (type === INPUT.GAMEPAD_BUTTON)
    return ['button', p[0], p[1], p.length];
  if (type === INPUT.MIDI)
    return ['midi', p[0], p[1], p[2], p.length];
  return ['other', type];
}

function pad (index, axes, buttons) {
  return {
    index, connected: true, mapping: 'standard',
    axes, buttons: buttons.map((b) => (typeof b === 'object' ? b : { pressed: b > 0.5, value: b })),
  };
}

function harness () {
  const h = { pads: [], sent: [], active: true, open: true, frames: [] };
  h.input = new gp.GamepadInput({
    getGamepads: () => h.pads,
    send: (type, payload) => {
      if (!h.open)
        return false;
      h.sent.push(decode(type, payload));
      return true;
    },
    active: () => h.active,
    requestFrame: (cb) => { h.frames.push(cb); return h.frames.length; },
    cancelFrame: () => { h.frames = []; },
    stats: {},
  });
  h.t = 0;
  // runs the pending animation frame 20 ms later; returns what was sent
  h.frame = () => {
    const cbs = h.frames.splice(0);
    h.t += 20;
    const from = h.sent.length;
    for (const cb of cbs)
      cb(h.t);
    return h.sent.slice(from);
  };
  return h;
}

test('payloads: GamepadAxis is 5 bytes (u8, f32 LE), GamepadButton 2, Midi 3', () => {
  assert.deepEqual(Array.from(gp.gamepadAxisPayload(3, -0.5)), [3, 0, 0, 0, 0xbf]);
  assert.deepEqual(Array.from(gp.gamepadAxisPayload(255, 1)), [255, 0, 0, 0x80, 0x3f]);
  assert.deepEqual(Array.from(gp.gamepadButtonPayload(7, 255)), [7, 255]);
  assert.deepEqual(Array.from(midi.midiPayload([0x90, 60, 100])), [0x90, 60, 100]);
  assert.equal(INPUT.GAMEPAD_AXIS, 0x30);
  assert.equal(INPUT.GAMEPAD_BUTTON, 0x31);
  assert.equal(INPUT.MIDI, 0x40);
});

test('axis values: NaN, Infinity and non-numbers are not sent, the rest clamped to -1..1, noise is 0', () => {
  assert.equal(gp.axisValue(NaN), null);
  assert.equal(gp.axisValue(Infinity), null);
  assert.equal(gp.axisValue(-Infinity), null);
  assert.equal(gp.axisValue('0.5'), null);
  assert.equal(gp.axisValue(undefined), null);
  assert.equal(gp.axisValue(7), 1);
  assert.equal(gp.axisValue(-1e30), -1);
  assert.equal(gp.axisValue(0.004), 0);
  assert.equal(gp.axisValue(-0.009), 0);
  assert.equal(gp.axisValue(0.25), 0.25);
});

test('button values: analog 0..1 as 0..255, pressed at least 1, hostile values bounded', () => {
  assert.equal(gp.buttonValue({ pressed: false, value: 0 }), 0);
  assert.equal(gp.buttonValue({ pressed: true, value: 1 }), 255);
  assert.equal(gp.buttonValue({ pressed: false, value: 0.5 }), 128);  // a trigger half way
  assert.equal(gp.buttonValue({ pressed: true, value: 0 }), 255);     // digital, no value
  assert.equal(gp.buttonValue({ pressed: true, value: NaN }), 255);
  assert.equal(gp.buttonValue({ pressed: false, value: NaN }), 0);
  assert.equal(gp.buttonValue({ pressed: false, value: 9 }), 255);
  assert.equal(gp.buttonValue({ pressed: false, value: -3 }), 0);
  assert.equal(gp.buttonValue(1), 255);                               // the old API's numbers
  assert.equal(gp.buttonValue(null), 0);
});

test('a pad: only changes are sent, past the thresholds; returns to 0 always', () => {
  const h = harness();
  h.pads = [pad(0, [0, 0, 0, 0], [0, 0])];
  h.input.wake();
  assert.deepEqual(h.frame(), [], 'a resting pad sends nothing');
  h.pads = [pad(0, [0.5, 0.004, 0, 0], [0, 1])];
  assert.deepEqual(h.frame(), [['axis', 0, 0.5, 5], ['button', 1, 255, 2]]);
  assert.deepEqual(h.frame(), [], 'nothing changed');
  h.pads = [pad(0, [0.505, 0, 0, 0], [0, 1])];
  assert.deepEqual(h.frame(), [], 'a change under 0.01');
  h.pads = [pad(0, [0.52, 0, 0, 0], [0, 1])];
  assert.deepEqual(h.frame(), [['axis', 0, f32(0.52), 5]]);
  h.pads = [pad(0, [0.005, 0, 0, 0], [0, 0])];
  assert.deepEqual(h.frame(), [['axis', 0, 0, 5], ['button', 1, 0, 2]], 'back to exactly 0');
  // a trigger: analog, small changes not sent
  h.pads = [pad(0, [0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, { pressed: false, value: 0.4 }])];
  assert.deepEqual(h.frame(), [['button', 7, 102, 2]]);
  h.pads = [pad(0, [0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, { pressed: false, value: 0.405 }])];
  assert.deepEqual(h.frame(), []);
  // hostile: NaN and Infinity axes are not sent, out of range clamped
  h.pads = [pad(0, [NaN, Infinity, 5, -Infinity], [])];
  assert.deepEqual(h.frame(), [['axis', 2, 1, 5], ['button', 7, 0, 2]]);
});

test('the gamepad number is folded into the wire number (index * 32 + i); pads the wire cannot carry are left out', () => {
  const h = harness();
  const many = Array.from({ length: 40 }, (_, i) => (i === 33 ? 1 : 0));
  h.pads = [null, pad(1, [0, 0.75], [0, 0, 1]), pad(8, [1], [1]), pad(0, many, many)];
  h.input.wake();
  const sent = h.frame();
  assert.deepEqual(sent.sort(), [['axis', 33, 0.75, 5], ['button', 34, 255, 2]].sort(),
      'pad 1 as 32 + i; pad 8 and axis/button 33 of pad 0 not');
  assert.equal(h.input.stats.connected, 2);
});

test('a pad that goes, and a page that loses the focus, release what the source holds', () => {
  const h = harness();
  h.pads = [pad(0, [-1, 0], [1, 0])];
  h.input.wake();
  assert.deepEqual(h.frame(), [['axis', 0, -1, 5], ['button', 0, 255, 2]]);
  h.active = false;
  h.input.release();
  assert.deepEqual(h.sent.slice(-2), [['axis', 0, 0, 5], ['button', 0, 0, 2]]);
  assert.deepEqual(h.frame(), [], 'nothing while inactive');
  h.active = true;
  assert.deepEqual(h.frame(), [['axis', 0, -1, 5], ['button', 0, 255, 2]], 'sent again on focus');
  h.pads = [];
  assert.deepEqual(h.frame(), [['axis', 0, 0, 5], ['button', 0, 0, 2]], 'disconnected');
  assert.equal(h.frames.length, 0, 'no pad, nothing held: polling stops');
});

test('not connected: nothing is lost, the changes go out once it is', () => {
  const h = harness();
  h.open = false;
  h.pads = [pad(0, [0.3], [1])];
  h.input.wake();
  assert.deepEqual(h.frame(), []);
  h.open = true;
  assert.deepEqual(h.frame(), [['axis', 0, f32(0.3), 5], ['button', 0, 255, 2]]);
});

test('at most 32 frames per poll; the rest follow in the next polls', () => {
  const h = harness();
  const all = Array.from({ length: 32 }, () => 0.5);
  h.pads = [0, 1].map((i) => pad(i, all, Array.from({ length: 32 }, () => 1)));
  h.input.wake();
  const counts = [];
  for (let i = 0; i < 6; i++)
    counts.push(h.frame().length);
  assert.deepEqual(counts, [32, 32, 32, 32, 0, 0]);
  assert.equal(new Set(h.sent.map((s) => s[0] + s[1])).size, 128);
});

test('polls at most every 15 ms', () => {
  const h = harness();
  h.pads = [pad(0, [0], [])];
  h.input.wake();
  h.frame();
  let polled = 0;
  h.input.getGamepads = () => { polled++; return h.pads; };
  const cbs = h.frames.splice(0);
  cbs[0](h.t + 5);              // 5 ms after the last poll: not read
  assert.equal(polled, 0);
  h.frames.splice(0)[0](h.t + 16);
  assert.equal(polled, 1);
});

test('MIDI messages: channel messages pass, the rest is dropped', () => {
  const p = (d) => { const r = midi.midiPayload(d); return r && Array.from(r); };
  assert.deepEqual(p([0x90, 60, 100]), [0x90, 60, 100]);   // note on
  assert.deepEqual(p([0x83, 60, 0]), [0x83, 60, 0]);       // note off
  assert.deepEqual(p([0xb0, 7, 127]), [0xb0, 7, 127]);     // CC
  assert.deepEqual(p([0xef, 0, 64]), [0xef, 0, 64]);       // pitch bend
  assert.deepEqual(p([0xa0, 60, 10]), [0xa0, 60, 10]);     // poly pressure
  assert.deepEqual(p([0xc5, 12]), [0xc5, 12, 0]);          // program change: d2 0
  assert.deepEqual(p([0xd0, 99]), [0xd0, 99, 0]);          // channel pressure
  assert.equal(p([0xf0, 0x7e, 0x7f, 0x06, 0x01, 0xf7]), null, 'sysex');
  assert.equal(p([0xf8]), null, 'clock');
  assert.equal(p([0xfe]), null, 'active sensing');
  assert.equal(p([0xf2, 1, 2]), null, 'song position');
  assert.equal(p([60, 100]), null, 'running status');
  assert.equal(p([0x90, 60]), null, 'truncated');
  assert.equal(p([0x90, 200, 1]), null, 'data byte > 127');
  assert.equal(p([0x90, 60, 128]), null, 'data byte > 127');
  assert.equal(p([]), null);
  assert.equal(p(null), null);
  assert.equal(p([0x190, 1, 1]), null, 'not a byte');
});

function midiHarness (request) {
  const h = { sent: [], active: true, t: 0, changes: 0 };
  h.midi = new midi.MidiInput({
    requestMIDIAccess: request,
    send: (type, payload) => { h.sent.push(decode(type, payload)); return true; },
    active: () => h.active,
    now: () => h.t,
    onChange: () => h.changes++,
    stats: {},
  });
  return h;
}

function fakeAccess (n) {
  const inputs = new Map();
  for (let i = 0; i < n; i++)
    inputs.set('in' + i, { id: 'in' + i, onmidimessage: null });
  return { inputs, onstatechange: null, sysexEnabled: false };
}

test('MIDI: asked for without sysex, every input listened to, plugged in later too', async () => {
  const access = fakeAccess(2);
  const asked = [];
  const h = midiHarness(async (opts) => { asked.push(opts); return access; });
  assert.equal(h.midi.stats.state, 'off');
  await h.midi.enable();
  await h.midi.enable();
  assert.deepEqual(asked, [{ sysex: false }], 'asked once, without sysex');
  assert.equal(h.midi.stats.state, 'on');
  assert.equal(h.midi.stats.inputs, 2);
  access.inputs.get('in1').onmidimessage({ data: new Uint8Array([0x91, 64, 90]) });
  access.inputs.get('in0').onmidimessage({ data: new Uint8Array([0xf8]) });
  access.inputs.get('in0').onmidimessage({ data: new Uint8Array([0xf0, 1, 2, 0xf7]) });
  assert.deepEqual(h.sent, [['midi', 0x91, 64, 90, 3]]);
  assert.equal(h.midi.stats.ignored, 2);
  access.inputs.set('in2', { id: 'in2', onmidimessage: null });
  access.onstatechange({});
  assert.equal(h.midi.stats.inputs, 3);
  access.inputs.get('in2').onmidimessage({ data: new Uint8Array([0xc0, 5]) });
  assert.deepEqual(h.sent[1], ['midi', 0xc0, 5, 0, 3]);
  // inactive page: not sent
  h.active = false;
  access.inputs.get('in2').onmidimessage({ data: new Uint8Array([0x80, 64, 0]) });
  assert.equal(h.sent.length, 2);
  assert.equal(h.midi.stats.dropped, 1);
});

test('MIDI: refused or missing access says so and sends nothing', async () => {
  const h = midiHarness(async () => { throw new Error('denied by the test'); });
  await h.midi.enable();
  assert.equal(h.midi.stats.state, 'denied');
  assert.match(h.midi.stats.error, /denied by the test/);
  const none = midiHarness(undefined);
  assert.equal(none.midi.available, false);
  assert.equal(none.midi.stats.state, 'unavailable');
  await none.midi.enable();
  assert.equal(none.midi.stats.state, 'unavailable');
});

test('MIDI: at most 1000 messages a second', async () => {
  const access = fakeAccess(1);
  const h = midiHarness(async () => access);
  await h.midi.enable();
  const input = access.inputs.get('in0');
  for (let i = 0; i < 1500; i++)
    input.onmidimessage({ data: [0xb0, 1, i & 0x7f] });
  assert.equal(h.sent.length, midi.MIDI_MAX_PER_SECOND);
  assert.equal(h.midi.stats.dropped, 500);
  h.t += 1000;
  input.onmidimessage({ data: [0xb0, 1, 5] });
  assert.equal(h.sent.length, midi.MIDI_MAX_PER_SECOND + 1);
});
