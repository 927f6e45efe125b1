// Reads an imustream MCAP recording with the official TypeScript reader
// (@mcap/core) and decodes its CDR messages with @foxglove/cdr: nothing of
// the Go writer is involved. Prints one JSON object on stdout.
//
//   node read.mjs indexed FILE   the summary, its chunk indexes, every message through them
//   node read.mjs stream FILE    front to back, as far as the file goes (a file cut short)
import { readFile, open } from "node:fs/promises";
import { McapIndexedReader, McapStreamReader } from "@mcap/core";
import { CdrReader } from "@foxglove/cdr";
import { decompress } from "fzstd";

const decompressHandlers = {
  zstd: (buf, size) => {
    const out = decompress(buf, new Uint8Array(Number(size)));
    if (out.byteLength !== Number(size)) throw new Error(`zstd: ${out.byteLength} bytes, want ${size}`);
    return out;
  },
};

function header(r) {
  return { sec: r.int32(), nsec: r.uint32(), frame_id: r.string() };
}

// Decodes a message by its schema name, field by field as the .msg says.
function decode(schema, data) {
  const r = new CdrReader(data);
  const h = header(r);
  let m;
  switch (schema) {
    case "sensor_msgs/msg/Imu":
      m = {
        orientation: Array.from(r.float64Array(4)),
        orientation_covariance: Array.from(r.float64Array(9)),
        angular_velocity: Array.from(r.float64Array(3)),
        angular_velocity_covariance: Array.from(r.float64Array(9)),
        linear_acceleration: Array.from(r.float64Array(3)),
        linear_acceleration_covariance: Array.from(r.float64Array(9)),
      };
      break;
    case "sensor_msgs/msg/Temperature":
      m = { temperature: r.float64(), variance: r.float64() };
      break;
    case "sensor_msgs/msg/FluidPressure":
      m = { fluid_pressure: r.float64(), variance: r.float64() };
      break;
    case "sensor_msgs/msg/MagneticField":
      m = { magnetic_field: Array.from(r.float64Array(3)), magnetic_field_covariance: Array.from(r.float64Array(9)) };
      break;
    default:
      throw new Error(`unknown schema ${schema}`);
  }
  if (r.decodedBytes !== data.byteLength) throw new Error(`${schema}: ${data.byteLength - r.decodedBytes} bytes left over`);
  return { header: h, ...m };
}

function output(schemas, channels, messages, extra) {
  const out = { ...extra, schemas: {}, channels: {}, messages: [] };
  for (const [id, s] of schemas) out.schemas[id] = { name: s.name, encoding: s.encoding, data: new TextDecoder().decode(s.data) };
  for (const [id, c] of channels) out.channels[id] = { topic: c.topic, schema: schemas.get(c.schemaId)?.name, encoding: c.messageEncoding };
  for (const m of messages) {
    const ch = channels.get(m.channelId);
    const schema = schemas.get(ch.schemaId).name;
    out.messages.push({ topic: ch.topic, schema, seq: m.sequence, log_time: m.logTime.toString(), ...decode(schema, m.data) });
  }
  process.stdout.write(JSON.stringify(out));
}

async function indexed(path) {
  const fh = await open(path, "r");
  const readable = {
    size: async () => BigInt((await fh.stat()).size),
    read: async (offset, size) => {
      const buf = new Uint8Array(Number(size));
      const { bytesRead } = await fh.read(buf, 0, Number(size), Number(offset));
      if (bytesRead !== Number(size)) throw new Error("short read");
      return buf;
    },
  };
  const reader = await McapIndexedReader.Initialize({ readable, decompressHandlers });
  const messages = [];
  for await (const m of reader.readMessages()) messages.push(m);
  await fh.close();
  output(reader.schemasById, reader.channelsById, messages, {
    profile: reader.header.profile,
    chunks: reader.chunkIndexes.length,
    compression: [...new Set(reader.chunkIndexes.map((c) => c.compression))],
    message_count: reader.statistics ? Number(reader.statistics.messageCount) : -1,
    complete: true,
  });
}

async function stream(path) {
  const reader = new McapStreamReader({ decompressHandlers, includeChunks: true });
  reader.append(await readFile(path));
  const schemas = new Map(), channels = new Map(), messages = [];
  let chunks = 0, profile, error;
  try {
    for (let rec; (rec = reader.nextRecord()); ) {
      switch (rec.type) {
        case "Header": profile = rec.profile; break;
        case "Schema": schemas.set(rec.id, rec); break;
        case "Channel": channels.set(rec.id, rec); break;
        case "Message": messages.push(rec); break;
        case "Chunk": chunks++; break;
      }
    }
  } catch (e) {
    error = String(e);
  }
  output(schemas, channels, messages, { profile, chunks, complete: reader.done(), left_over: reader.bytesRemaining(), error });
}

const [mode, path] = process.argv.slice(2);
if (mode === "indexed") await indexed(path);
else if (mode === "stream") await stream(path);
else {
  console.error("usage: node read.mjs indexed|stream FILE");
  process.exit(2);
}
