// Subscribes to an imustream view's /imu channel with the official
// Foxglove client and writes what it received, one line per message:
// t_wall_ns from header.stamp, then linear_acceleration x y z and
// angular_velocity x y z as received (JSON numbers, printed back by JS).
//
//   node --experimental-websocket foxglove-client.mjs URL SECONDS OUT
//
// Node 22 has WebSocket without the flag. Exits 1 when nothing came.
import wsProtocol from "@foxglove/ws-protocol";
import { writeFileSync } from "node:fs";

const { FoxgloveClient } = wsProtocol;

const [url, seconds, out] = process.argv.slice(2);
if (!url || !seconds || !out) {
  console.error("usage: foxglove-client.mjs URL SECONDS OUT");
  process.exit(2);
}
const client = new FoxgloveClient({ ws: new WebSocket(url, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]) });
const decoder = new TextDecoder();
const lines = [];
let serverName = null, imuChannel = null, started = null, statuses = [];
let subscription = null;

client.on("serverInfo", info => { serverName = info.name; });
client.on("status", s => statuses.push(s.message));
client.on("error", e => { console.error("foxglove client error:", e?.message ?? e); });
client.on("advertise", channels => {
  for (const ch of channels) {
    if (ch.topic === "/imu" && subscription === null) {
      imuChannel = ch;
      subscription = client.subscribe(ch.id);
    }
  }
});
client.on("message", ({ subscriptionId, data }) => {
  if (subscriptionId !== subscription) return;
  if (started === null) {
    started = Date.now();
    setTimeout(finish, Number(seconds) * 1000);
  }
  const m = JSON.parse(decoder.decode(data));
  const ns = BigInt(m.header.stamp.sec) * 1000000000n + BigInt(m.header.stamp.nanosec);
  const a = m.linear_acceleration, g = m.angular_velocity;
  lines.push([ns, a.x, a.y, a.z, g.x, g.y, g.z].join(","));
});
setTimeout(() => { if (started === null) finish(); }, 20000);

function finish() {
  client.close();
  writeFileSync(out, lines.join("\n") + (lines.length ? "\n" : ""));
  console.log(JSON.stringify({
    server: serverName, channel: imuChannel && { topic: imuChannel.topic, encoding: imuChannel.encoding, schemaName: imuChannel.schemaName },
    messages: lines.length, seconds: started === null ? 0 : (Date.now() - started) / 1000, statuses,
  }));
  process.exit(lines.length > 0 ? 0 : 1);
}
