/* ds-relay viewer: the connection to /stream/{channel}
 *
 * One WebSocket at a time, binary frames only; Ping every 5 s (SPEC
 * §6.6), a connection given up when its Pings go unanswered, a connect
 * timeout, and reconnecting with jittered backoff.
 * Given several URLs (the same channel on several relays of a cluster),
 * as dsstreamsrc's `locations`: a failed try or a lost connection moves
 * to the next URL at once, round robin, and a pass over the list without
 * a connection is one round, after which the backoff below waits. A
 * browser does not say why a WebSocket failed (refused, 403, 503 look
 * the same), so every failure counts as a network one.
 * Knows nothing of what the frames mean.
 */

import { FRAME, FLAG_INPUT, packFrame } from './protocol.js';

const PING_INTERVAL_MS = 5000;
/* Reconnecting: the first try 250 ms after the loss, then every 500 ms
 * while the outage is younger than 10 s (a restarted relay is back
 * within a second or two), then doubling up to 10 s; each delay ±25 %
 * so that many viewers do not come back in step. */
const RECONNECT_MIN_MS = 250;
const RECONNECT_FAST_MAX_MS = 500;
const RECONNECT_FAST_PERIOD_MS = 10000;
const RECONNECT_MAX_MS = 10000;
/* a connection not open after this long is given up and tried again */
const CONNECT_TIMEOUT_MS = 3000;
/* an open connection over which nothing came for this long after a Ping
 * (the relay answers every one, SPEC §6.6) is given up as lost: a relay
 * gone from the network without closing (a machine off, a cable out)
 * would otherwise keep the page waiting until TCP gives up, minutes.
 * Counted from the Ping, not from the last message, so that a
 * background tab whose timers the browser slows to one a minute does
 * not give up a connection that answers. */
const SILENCE_TIMEOUT_MS = 15000;

/** Our clock for Ping: milliseconds, u32 */
export function now32 () {
  return Math.floor(performance.now()) >>> 0;
}

export class Connection {
  /**
   * @urls: the WebSocket URL, or a list of them tried in turn;
   * @handlers: onOpen(), onMessage(ArrayBuffer), onClose(),
   * onReconnecting() (before each new try, this.index already the URL
   * about to be tried); @sent: counters, its `pings` field counts the
   * Pings sent
   */
  constructor (urls, handlers, sent) {
    this.urls = Array.isArray(urls) ? urls.slice() : [urls];
    this.index = 0;             /* the URL in use or being tried */
    this.failedInRound = 0;     /* tries since the last open or backoff */
    this.handlers = handlers;
    this.socket = null;
    this.sendSeq = 0;
    this.startTime = 0;
    this.reconnectDelay = RECONNECT_MIN_MS;
    this.reconnectTimer = 0;
    this.connectTimer = 0;
    this.outageStart = 0;
    this.pingTimer = 0;
    this.unansweredSince = 0;   /* the first Ping sent since the last message */
    this.sent = sent;
  }

  get url () {
    return this.urls[this.index];
  }

  get open () {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  connect () {
    this.reconnectTimer = 0;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (e) {
      this.scheduleReconnect();
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.socket = ws;
    this.connectTimer = setTimeout(() => {
      this.connectTimer = 0;
      if (this.socket === ws && ws.readyState === WebSocket.CONNECTING)
        ws.close();             /* onclose schedules the next try */
    }, CONNECT_TIMEOUT_MS);

    ws.onopen = () => {
      clearTimeout(this.connectTimer);
      this.connectTimer = 0;
      this.outageStart = 0;
      this.failedInRound = 0;
      this.reconnectDelay = RECONNECT_MIN_MS;
      this.startTime = performance.now();
      this.unansweredSince = 0;
      this.handlers.onOpen();
      this.sendPing();
      this.pingTimer = setInterval(() => this.keepAlive(ws), PING_INTERVAL_MS);
    };
    ws.onmessage = (ev) => {
      this.unansweredSince = 0;
      if (ev.data instanceof ArrayBuffer)
        this.handlers.onMessage(ev.data);
      /* text messages are not part of the protocol */
    };
    ws.onclose = () => this.closed(ws);
    ws.onerror = () => { /* onclose follows */ };
  }

  /* every Ping interval: a Ping, or the connection given up when the
   * last ones went unanswered too long */
  keepAlive (ws) {
    if (this.socket !== ws)
      return;
    if (this.unansweredSince &&
        performance.now() - this.unansweredSince > SILENCE_TIMEOUT_MS) {
      /* not waiting for a closing handshake the peer will not answer */
      ws.onclose = null;
      ws.onmessage = null;
      ws.close();
      this.closed(ws);
      return;
    }
    this.sendPing();
  }

  /* @ws ended (or was given up): the next try */
  closed (ws) {
    if (this.socket !== ws)
      return;
    clearTimeout(this.connectTimer);
    this.connectTimer = 0;
    this.socket = null;
    /* an outage starts when an open connection ends (onopen cleared
     * it) or the first try fails */
    if (!this.outageStart)
      this.outageStart = performance.now();
    clearInterval(this.pingTimer);
    /* first: onClose() sees the URL tried next in this.index */
    this.scheduleReconnect();
    this.handlers.onClose();
  }

  /* after a failed try or a lost connection: the next URL at once, or,
   * when every URL of the list failed since the last backoff (or the
   * last open connection), the first of the next round after the
   * backoff's delay. One URL: the backoff every time, as before lists. */
  scheduleReconnect () {
    if (this.reconnectTimer)
      return;
    this.index = (this.index + 1) % this.urls.length;
    this.failedInRound++;
    if (this.failedInRound < this.urls.length) {
      this.reconnectTimer = setTimeout(() => {
        this.handlers.onReconnecting();
        this.connect();
      }, 0);
      return;
    }
    this.failedInRound = 0;
    const delay = this.reconnectDelay * (0.75 + Math.random() * 0.5);
    const fast = performance.now() - this.outageStart < RECONNECT_FAST_PERIOD_MS;
    this.reconnectDelay = Math.min(this.reconnectDelay * 2,
        fast ? RECONNECT_FAST_MAX_MS : RECONNECT_MAX_MS);
    this.reconnectTimer = setTimeout(() => {
      this.handlers.onReconnecting();
      this.connect();
    }, delay);
  }

  /** Sends one frame with our next seq; false when not connected */
  send (type, flags, payload) {
    if (!this.open)
      return false;
    const ts = Math.floor(performance.now() - this.startTime) >>> 0;
    this.socket.send(packFrame(type, flags, this.sendSeq, ts, 0, 0, payload));
    this.sendSeq = (this.sendSeq + 1) & 0xffff;
    return true;
  }

  sendInput (type, payload) {
    return this.send(type, FLAG_INPUT, payload);
  }

  /* the timestamp is our own clock (ms, u32); the relay echoes it */
  sendPing () {
    if (!this.open)
      return;
    this.socket.send(packFrame(FRAME.PING, 0, this.sendSeq, now32(), 0, 0, null));
    this.sendSeq = (this.sendSeq + 1) & 0xffff;
    this.sent.pings++;
    if (!this.unansweredSince)
      this.unansweredSince = performance.now();
  }
}
