// A stand-in Gamepad API and Web MIDI for the viewer page, installed with
// page.addInitScript(stubDevices): it runs in the page before its
// scripts (so it is self-contained).
// navigator.getGamepads() returns the pads a test sets with
// dsTestPad(index, axes, buttons) (which also fires gamepadconnected;
// a button is a value 0..1 or a GamepadButton-like object; buttons null
// removes the pad and fires gamepaddisconnected),
// navigator.requestMIDIAccess() counts its calls and grants one input
// that dsTestMidi(bytes) plays a message on; dsTestFocus(false) makes
// document.hasFocus() false and fires blur.
export function stubDevices () {
  const pads = [null, null, null, null];
  Object.defineProperty(navigator, 'getGamepads', { configurable: true, value: () => pads });
  window.dsTestPad = (index, axes, buttons) => {
    pads[index] = buttons === null ? null : {
      index, id: 'test pad ' + index, connected: true, mapping: 'standard',
      timestamp: performance.now(), axes,
      buttons: buttons.map((v) => (typeof v === 'object' ? v : { pressed: v > 0.5, touched: v > 0, value: v })),
    };
    window.dispatchEvent(new Event(buttons === null ? 'gamepaddisconnected' : 'gamepadconnected'));
  };
  const input = { id: 'test-in', name: 'test keyboard', onmidimessage: null };
  window.dsTestMidiAsked = [];
  Object.defineProperty(navigator, 'requestMIDIAccess', {
    configurable: true,
    value: async (opts) => {
      window.dsTestMidiAsked.push(opts);
      return { inputs: new Map([[input.id, input]]), outputs: new Map(), onstatechange: null, sysexEnabled: false };
    },
  });
  window.dsTestMidi = (bytes) => input.onmidimessage({ data: new Uint8Array(bytes) });
  let focus = true;
  Document.prototype.hasFocus = () => focus;
  window.dsTestFocus = (f) => {
    focus = f;
    window.dispatchEvent(new Event(f ? 'focus' : 'blur'));
  };
}
