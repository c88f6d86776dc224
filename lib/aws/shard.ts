// Spreads items over several partition keys by a hash of their id. The same id always lands on the same
// shard, so a retried write meets its own item and a reader can compute where to look.
import { createHash } from "node:crypto";

export function shardOf(id: string, shards: number): number {
  return createHash("sha256").update(id).digest().readUInt16BE(0) % shards;
}
