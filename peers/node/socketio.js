// node-socketio: Socket.IO 4's server on Node's http server, as a browser client meets it by
// default: Engine.IO v4 starts with HTTP long polling and upgrades to WebSocket. Every
// published message is emitted to every client as the event "message" (io.emit, which encodes
// the packet once for all). Engine.IO's pings, its open packet and the Socket.IO connect are
// real traffic: the meter counts their bytes, and every request on /socket.io/ counts as one
// of the peer's own.
"use strict";

const { Server } = require("socket.io");
const { Peer, version } = require("./peer.js");

const peer = new Peer(JSON.parse(process.argv[2]), {
  "socket.io": `socket.io ${version("socket.io")}`,
  "engine.io": `engine.io ${version("engine.io")}`,
  ws: `ws ${version("ws")}`,
});
const io = new Server(peer.server, { serveClient: false, cors: undefined });
peer.ownPaths.add("/socket.io/");

peer.server.prependListener("upgrade", () => peer.meter.requests++);
io.on("connection", (socket) => {
  peer.meter.clientsConnected++;
  socket.on("disconnect", () => peer.meter.clientsConnected--);
});

peer.feed.listeners.push((message) => {
  io.emit("message", { id: message.id, ts: message.ts, text: message.text });
  peer.meter.messagesDelivered += io.of("/").sockets.size;
});

peer.countRequests(); // after Socket.IO has taken the "request" event: counted first
peer.listen();
