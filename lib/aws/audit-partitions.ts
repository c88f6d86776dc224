// Where an audit event is stored. A UTC day is split over several partition keys, because DynamoDB cannot
// split one key for heat when its sort keys only grow: on a single day key every audit write of the
// broker would share one partition's write ceiling, and a throttled audit write is only logged.
import { shardOf } from "./shard.ts";

/**
 * Partition keys per UTC day. A layout constant rather than a tuning knob: a reader must read at least as
 * many shards as any writer used, or it silently misses events. Growing it keeps earlier days readable
 * (an event hashed mod 8 is in a shard below 16); shrinking it would hide events.
 */
export const AUDIT_SHARDS = 8;

/** Hashed on the event id, so a retried write of the same event lands on the same item. */
export const auditShardOf = (eventId: string, shards: number): number => shardOf(eventId, shards);

export function auditKey(
  event: { time: string; eventId: string },
  shards: number,
): { pk: string; sk: string } {
  return {
    pk: `AUDIT#${event.time.slice(0, 10)}#${auditShardOf(event.eventId, shards)}`,
    sk: `${event.time}#${event.eventId}`,
  };
}

/**
 * Every partition key that can hold events of `day`: its shards, then the single unsharded key that
 * versions before the split wrote (`AUDIT#<day>`), so events stored before an upgrade are still read until
 * their retention ends.
 */
export function auditPartitionsOfDay(day: string, shards: number): string[] {
  return [...Array.from({ length: shards }, (_, n) => `AUDIT#${day}#${n}`), `AUDIT#${day}`];
}
