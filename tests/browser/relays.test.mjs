// The viewer's list of relays in node alone (no Chromium): the `relays`
// query parameter checked by core/relays.js (what is taken, what is
// refused and the reason given, the bounds), and core/websock.js's
// Connection going round a list against a stand-in WebSocket and
// stand-in timers: the next URL at once after a failed try or a lost
// connection, the backoff only after a whole pass, a connection that
// opened starting a new round, one URL behaving as before lists, an
// open connection whose Pings go unanswered given up.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const VIEWER = path.resolve(HERE, '..', '..', 'relay', 'viewer');
const relays = await import(pathToFileURL(path.join(VIEWER, 'core', 'relays.js')));

const { parseRelayList, parseRelayUrl, pageRelay, startingWith, relayStreamUrl, relayChannelUrl,
  MAX_RELAYS, MAX_RELAY_URL_LENGTH } = relays;

test('a list of ws:// and wss:// bases is taken in its order', () => {
  const r = parseRelayList('ws://127.0.0.1:9102, wss://n1.example:9101/relay1/,ws://[::1]:9103', false);
  assert.equal(r.error, undefined);
  assert.deepEqual(r.relays.map((x) => x.base),
    ['ws://127.0.0.1:9102', 'wss://n1.example:9101/relay1', 'ws://[::1]:9103']);
  assert.deepEqual(r.relays.map((x) => x.http),
    ['http://127.0.0.1:9102', 'https://n1.example:9101/relay1', 'http://[::1]:9103']);
  assert.equal(relayStreamUrl(r.relays[1], 'demo.1', 'a b&c'),
    'wss://n1.example:9101/relay1/stream/demo.1?token=a%20b%26c');
  assert.equal(relayStreamUrl(r.relays[0], 'demo', null), 'ws://127.0.0.1:9102/stream/demo');
  assert.equal(relayChannelUrl(r.relays[1], 'demo'), 'https://n1.example:9101/relay1/channels/demo');
  // the default port is the URL parser's business: ws://h:80 is ws://h
  assert.equal(parseRelayList('ws://h:80', false).relays[0].base, 'ws://h');
  assert.equal(parseRelayList('wss://h', true).relays[0].base, 'wss://h');
});

test('the page\'s own relay', () => {
  assert.deepEqual(pageRelay({ protocol: 'http:', host: '127.0.0.1:9100' }),
    { base: 'ws://127.0.0.1:9100', ws: 'ws://127.0.0.1:9100', http: 'http://127.0.0.1:9100' });
  assert.equal(pageRelay({ protocol: 'https:', host: 'n1.example' }).ws, 'wss://n1.example');
});

test('the relay\'s list starts with the page\'s own relay, the others after it in turn', () => {
  const list = parseRelayList('ws://n1:9101,ws://n2:9102,ws://n3:9103', false).relays;
  const order = (host) => startingWith(pageRelay({ protocol: 'http:', host }), list).map((r) => r.base);
  assert.deepEqual(order('n1:9101'), ['ws://n1:9101', 'ws://n2:9102', 'ws://n3:9103']);
  assert.deepEqual(order('n2:9102'), ['ws://n2:9102', 'ws://n3:9103', 'ws://n1:9101']);
  assert.deepEqual(order('n3:9103'), ['ws://n3:9103', 'ws://n1:9101', 'ws://n2:9102']);
  // served under a name not in the list: that one first
  assert.deepEqual(order('proxy:80'), ['ws://proxy:80', 'ws://n1:9101', 'ws://n2:9102', 'ws://n3:9103']);
  const full = parseRelayList(Array.from({ length: MAX_RELAYS }, (_, i) => 'ws://h:' + (9000 + i)).join(','), false).relays;
  assert.equal(startingWith(pageRelay({ protocol: 'http:', host: 'x:1' }), full).length, MAX_RELAYS);
});

test('a list with one wrong entry is refused, naming it and why', () => {
  const cases = [
    ['', /empty/],
    ['   ', /empty/],
    ['ws://a:1,,ws://b:2', /relay 2 of 3 is empty/],
    ['ws://a:1,', /relay 2 of 2 is empty/],
    ['http://a:1', /relay 1 of 1, "http:\/\/a:1", is not a ws:\/\/ or wss:\/\/ URL/],
    ['javascript:alert(1)', /not a ws:\/\/ or wss:\/\/ URL/],
    ['ws://a:1,file:///etc/passwd', /relay 2 of 2.*not a ws/],
    ['a:9100', /not a ws/],
    ['127.0.0.1:9100', /not a URL|not a ws/],
    ['ws://', /not a URL|no host/],
    ['ws://a:99999', /not a URL/],
    ['ws://user:pw@a:1', /user name or password/],
    ['ws://a:1/?token=x', /query or fragment/],
    ['ws://a:1#x', /query or fragment/],
    ['ws://a:1/stream/demo', /names an endpoint.*viewer adds \/stream\/CHANNEL/],
    ['ws://a:1/view/demo', /names an endpoint/],
    ['ws://a:1/peer/', /names an endpoint/],
    ['ws://a:1,ws://a:1/', /relay 2 of 2.*listed twice/],
    ['ws://a b:1', /spaces or control/],
    ['ws://a:1/\u0000', /control/],
    ['ws://' + 'a'.repeat(MAX_RELAY_URL_LENGTH) + ':1', /longer than 256 characters/],
    [Array.from({ length: MAX_RELAYS + 1 }, (_, i) => 'ws://h:' + (9000 + i)).join(','),
      /lists 17 relays, at most 16/],
    ['ws://h:1,'.repeat(1000), /relays parameter is longer than/],
  ];
  for (const [param, why] of cases) {
    const r = parseRelayList(param, false);
    assert.equal(r.relays, undefined, param);
    assert.match(r.error, why, JSON.stringify(param));
  }
  assert.match(parseRelayList(null, false).error, /not text/);
  // a page over https cannot open ws:// (mixed content): said, not tried
  assert.match(parseRelayList('wss://a:1,ws://b:2', true).error,
    /relay 2 of 2, "ws:\/\/b:2", is ws:\/\/: a page served over https may only connect to wss:\/\//);
  // the longest taken: 16 entries of 256 characters
  const long = (i) => 'ws://' + String(i).padStart(2, '0') + 'x'.repeat(MAX_RELAY_URL_LENGTH - 12) + ':9100';
  const r = parseRelayList(Array.from({ length: MAX_RELAYS }, (_, i) => long(i)).join(','), false);
  assert.equal(r.error, undefined);
  assert.equal(r.relays.length, MAX_RELAYS);
  assert.equal(r.relays[0].base.length, MAX_RELAY_URL_LENGTH);
  // what is shown of a hostile entry is bounded
  const shown = parseRelayList('http://' + 'z'.repeat(200), false).error;
  assert.ok(shown.length < 200, shown);
  assert.equal(parseRelayUrl('ws://a:1', false).base, 'ws://a:1');
});

// ---- Connection going round the list ----

class FakeSocket {
  static all = [];
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 3;
  constructor (url) {
    this.url = url;
    this.readyState = FakeSocket.CONNECTING;
    this.sent = [];
    FakeSocket.all.push(this);
  }

  send (data) { this.sent.push(data); }
  close () { this.fail(); }
  open () { this.readyState = FakeSocket.OPEN; this.onopen(); }
  fail () {
    if (this.readyState === FakeSocket.CLOSED)
      return;
    this.readyState = FakeSocket.CLOSED;
    this.onclose?.();
  }
}

// timers run by hand: now() moves only with run()
const clock = { t: 0, timers: new Map(), next: 1 };
function installFakes () {
  globalThis.WebSocket = FakeSocket;
  globalThis.setTimeout = (fn, ms) => {
    const id = clock.next++;
    clock.timers.set(id, { fn, at: clock.t + (ms || 0) });
    return id;
  };
  globalThis.clearTimeout = (id) => clock.timers.delete(id);
  globalThis.setInterval = (fn, ms) => {
    const id = clock.next++;
    clock.timers.set(id, { fn, at: clock.t + ms, every: ms });
    return id;
  };
  globalThis.clearInterval = (id) => clock.timers.delete(id);
  Object.defineProperty(globalThis, 'performance', { value: { now: () => clock.t }, configurable: true });
}

/* runs the earliest timer; returns the time it waited */
function runNext () {
  let best = null;
  for (const [id, t] of clock.timers)
    if (!best || t.at < best[1].at)
      best = [id, t];
  assert.ok(best, 'a timer is pending');
  clock.timers.delete(best[0]);
  if (best[1].every)
    clock.timers.set(best[0], { ...best[1], at: best[1].at + best[1].every });
  const waited = Math.max(0, best[1].at - clock.t);
  clock.t = Math.max(clock.t, best[1].at);
  best[1].fn();
  return waited;
}

test('Connection: round robin over the list, backoff between rounds', async () => {
  installFakes();
  const { Connection } = await import(pathToFileURL(path.join(VIEWER, 'core', 'websock.js')));
  const events = [];
  const c = new Connection(['ws://b/stream/x', 'ws://a/stream/x', 'ws://c/stream/x'], {
    onOpen: () => events.push('open ' + c.url),
    onMessage: () => {},
    onClose: () => events.push('close, next ' + c.url),
    onReconnecting: () => events.push('try ' + c.url),
  }, { pings: 0 });
  const last = () => FakeSocket.all[FakeSocket.all.length - 1];

  c.connect();
  assert.equal(last().url, 'ws://b/stream/x');
  last().open();
  assert.equal(c.index, 0);
  // b lost: a at once (a 0 ms timer: not from inside onclose)
  last().fail();
  assert.equal(runNext(), 0);
  assert.equal(last().url, 'ws://a/stream/x');
  // a refused: c at once
  last().fail();
  assert.equal(runNext(), 0);
  assert.equal(last().url, 'ws://c/stream/x');
  // c refused: a whole pass without a connection, the backoff waits
  last().fail();
  let waited = runNext();
  assert.ok(waited >= 250 * 0.75 && waited <= 250 * 1.25, 'first round waited ' + waited);
  assert.equal(last().url, 'ws://b/stream/x');
  // second round: b, a, c at once, then a longer wait
  last().fail();
  assert.equal(runNext(), 0);
  last().fail();
  assert.equal(runNext(), 0);
  assert.equal(last().url, 'ws://c/stream/x');
  last().fail();
  waited = runNext();
  assert.ok(waited >= 500 * 0.75 && waited <= 500 * 1.25, 'second round waited ' + waited);
  assert.equal(last().url, 'ws://b/stream/x');
  // a try that never opens is given up after the connect timeout and counts as failed
  assert.equal(runNext(), 3000);
  assert.equal(last().readyState, FakeSocket.CLOSED);
  assert.equal(runNext(), 0);
  assert.equal(last().url, 'ws://a/stream/x');
  // a opens: the next loss starts a new round from the one after it
  last().open();
  assert.equal(c.url, 'ws://a/stream/x');
  last().fail();
  assert.equal(runNext(), 0);
  assert.equal(last().url, 'ws://c/stream/x');
  assert.deepEqual(events.slice(0, 4), ['open ws://b/stream/x', 'close, next ws://a/stream/x',
    'try ws://a/stream/x', 'close, next ws://c/stream/x']);

  // one URL: every failure waits the backoff, as before lists
  FakeSocket.all = [];
  clock.timers.clear();
  const one = new Connection('ws://only/stream/x', {
    onOpen () {}, onMessage () {}, onClose () {}, onReconnecting () {},
  }, { pings: 0 });
  one.connect();
  last().open();
  last().fail();
  waited = runNext();
  assert.ok(waited >= 250 * 0.75, 'one URL waited ' + waited);
  assert.equal(last().url, 'ws://only/stream/x');
  assert.equal(FakeSocket.all.length, 2);
});

test('Connection: a connection whose Pings go unanswered is given up, one that answers is kept', async () => {
  installFakes();
  const { Connection } = await import(pathToFileURL(path.join(VIEWER, 'core', 'websock.js')));
  FakeSocket.all = [];
  clock.timers.clear();
  clock.t = 0;                  // whole milliseconds (the backoff's jitter is not)
  const closes = [];
  const c = new Connection(['ws://b/stream/x', 'ws://a/stream/x'], {
    onOpen () {}, onMessage () {}, onClose: () => closes.push(clock.t), onReconnecting () {},
  }, { pings: 0 });
  const last = () => FakeSocket.all[FakeSocket.all.length - 1];
  const pong = (s) => s.onmessage({ data: new ArrayBuffer(16) });
  c.connect();
  const s = last();
  s.open();
  const t0 = clock.t;
  // a relay that answers every Ping: kept for a minute and more
  for (let i = 0; i < 20; i++) {
    assert.equal(runNext(), 5000);
    pong(s);
  }
  assert.equal(last(), s);
  assert.equal(s.readyState, FakeSocket.OPEN);
  assert.ok(s.sent.length >= 21);
  // then silent (gone without closing): given up once a Ping is
  // unanswered for more than 15 s, and the next relay tried at once
  const silentFrom = clock.t;
  while (last() === s) {
    runNext();
    assert.ok(clock.t - silentFrom <= 30000, 'still on the silent relay after 30 s');
  }
  assert.equal(s.readyState, FakeSocket.CLOSED);
  assert.equal(closes.length, 1);
  assert.equal(closes[0] - silentFrom, 25000);
  assert.equal(last().url, 'ws://a/stream/x');
  assert.ok(clock.t - t0 > 100000);
  // a message of any kind counts as an answer: frames flowing keep it
  last().open();
  const s2 = last();
  for (let i = 0; i < 10; i++) {
    runNext();
    s2.onmessage({ data: new ArrayBuffer(100) });
  }
  assert.equal(s2.readyState, FakeSocket.OPEN);
});

