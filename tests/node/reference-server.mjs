// The reference sync server of `cargo xtask bench-server`: automerge-repo 2.5 from npm, the
// way its own sync server is built (a Repo with the WebSocket server adapter and file-system
// storage, sharing a document only with peers that ask for it). No authentication and no
// access control: every peer may read and write every document.
//
//   node reference-server.mjs <port> <data-dir>
//
// Listens on 127.0.0.1:<port> (any path; the bench uses /sync; port 0 picks a free one),
// prints one JSON line {"listening": <port>} once it accepts connections, and runs until it
// is killed. The data directory may hold documents already, in NodeFSStorageAdapter's
// layout (the bench's city writes its households there before the start: city.rs).

import http from "node:http";
import { Repo } from "@automerge/automerge-repo";
import { NodeWSServerAdapter } from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";
import { WebSocketServer } from "ws";

const [port, dataDir] = process.argv.slice(2);
if (!port || !dataDir) {
  console.error("usage: node reference-server.mjs <port> <data-dir>");
  process.exit(2);
}

const sockets = new WebSocketServer({ noServer: true });
const server = http.createServer((_request, response) => {
  response.writeHead(200, { "content-type": "text/plain" });
  response.end("automerge-repo reference sync server\n");
});
server.on("upgrade", (request, socket, head) => {
  sockets.handleUpgrade(request, socket, head, (connection) => {
    sockets.emit("connection", connection, request);
  });
});

// As automerge-repo's own sync server does: announce nothing, answer whoever asks.
new Repo({
  network: [new NodeWSServerAdapter(sockets)],
  storage: new NodeFSStorageAdapter(dataDir),
  // Clients keep their sync states under this id (REFERENCE_PEER in servers.rs).
  peerId: "reference-server",
  sharePolicy: async () => false,
});

// The Repo hands its network adapter the socket server only once its storage is ready; a
// connection accepted before then would never be answered.
while (sockets.listenerCount("connection") === 0) {
  await new Promise((resolve) => setTimeout(resolve, 10));
}

server.listen(Number(port), "127.0.0.1", () => {
  console.log(JSON.stringify({ listening: server.address().port }));
});
