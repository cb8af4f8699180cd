// A plain Node.js WebSocket broadcast relay (npm "ws"), written the way a
// user would write one: /peer/{channel} publishes, every binary message is
// sent to each /stream/{channel} client. No caching, no flow control.
// Used only as the point of comparison in tests/bench/bench-relay.sh.
//
//   node relay.js [port]     (port 0 = any; prints "listening PORT")
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');

const port = parseInt(process.argv[2] || '0', 10);
const server = http.createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 404);
  res.end();
});
const wss = new WebSocketServer({
  server,
  maxPayload: 64 * 1024 * 1024,
  perMessageDeflate: false,
});
const channels = new Map();

wss.on('connection', (ws, req) => {
  const m = /^\/(peer|stream)\/([A-Za-z0-9._-]{1,64})$/.exec(req.url);
  if (!m) {
    ws.close(1008, 'bad path');
    return;
  }
  let channel = channels.get(m[2]);
  if (!channel) {
    channel = { receivers: new Set() };
    channels.set(m[2], channel);
  }
  if (m[1] === 'stream') {
    channel.receivers.add(ws);
    ws.on('close', () => channel.receivers.delete(ws));
  } else {
    ws.on('message', (data, isBinary) => {
      for (const r of channel.receivers) {
        if (r.readyState === 1)
          r.send(data, { binary: isBinary });
      }
    });
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
