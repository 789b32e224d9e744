// Connects the official socket.io JS client to eventrunner and records, in order, the
// events each connection receives. Usage: node record.mjs URL PATCHES [AUTH_JSON]
// AUTH_JSON is the handshake's auth, e.g. {"topics": "*"}: then the snapshots of the
// "show" and "pulse" topics are recorded. Prints "ready" once every connection has its
// snapshots, then one JSON line with the events after PATCHES patches arrived on every
// connection. Gives up after 20 s.
import { io } from "socket.io-client";

const [url, wanted] = [process.argv[2], Number(process.argv[3])];
const auth = process.argv[4] ? JSON.parse(process.argv[4]) : undefined;
const snapshots = auth ? ["show", "pulse"] : ["show"];
const endpoints = [
  { name: "live/public", path: "/live/", namespace: "/public" },
  { name: "live/overlay", path: "/live/", namespace: "/overlay" },
  { name: "socket.io/public", path: "/socket.io/", namespace: "/public" },
];
const received = {};
const sockets = [];
let ready = false;

setTimeout(() => {
  console.error("timed out", JSON.stringify(received));
  process.exit(2);
}, 20000).unref();

function check() {
  const lists = Object.values(received);
  if (!ready && lists.length === endpoints.length && lists.every((events) => events.length >= snapshots.length)) {
    ready = true;
    console.log("ready");
  }
  if (lists.length === endpoints.length && lists.every((events) => events.length >= wanted + snapshots.length)) {
    sockets.forEach((socket) => socket.disconnect());
    // Exit once the line is written: a pipe takes it in 64 KB pieces, and exit() drops the rest.
    process.stdout.write(JSON.stringify(received) + "\n", () => process.exit(0));
  }
}

for (const endpoint of endpoints) {
  const socket = io(url + endpoint.namespace, {
    path: endpoint.path, transports: ["websocket"], forceNew: true, reconnection: false, auth,
  });
  received[endpoint.name] = [];
  for (const event of [...snapshots, "patch"]) {
    socket.on(event, (data) => {
      delete data.server_time;
      received[endpoint.name].push([event, data]);
      check();
    });
  }
  socket.on("connect_error", (error) => {
    console.error(endpoint.name, "connect_error", error.message);
    process.exit(3);
  });
  sockets.push(socket);
}
