// node-ws: the `ws` library's WebSocket server on Node's http server, with the broadcast its
// README teaches ("Server broadcast"): for each message, every client of wss.clients whose
// readyState is OPEN gets client.send(data). The message is encoded once (a Buffer, sent as
// text): the row measures the library's framing and Node's socket writes.
"use strict";

const { WebSocketServer, WebSocket } = require("ws");
const { Peer, version } = require("./peer.js");

const peer = new Peer(JSON.parse(process.argv[2]), { ws: `ws ${version("ws")}` });
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

peer.server.on("upgrade", (request, socket, head) => {
  if (request.url.split("?", 1)[0] !== "/ws") {
    socket.destroy();
    return;
  }
  peer.meter.requests++; // the upgrade, as pushlab counts one
  wss.handleUpgrade(request, socket, head, (client) => {
    peer.meter.clientsConnected++;
    client.on("close", () => peer.meter.clientsConnected--);
    client.on("error", () => client.terminate());
  });
});

peer.feed.listeners.push((message) => {
  const data = Buffer.from(message.json);
  for (const client of wss.clients) {
    if (client.readyState === WebSocket.OPEN) {
      client.send(data, { binary: false });
      peer.meter.messagesDelivered++;
    }
  }
});

peer.countRequests();
peer.listen();
