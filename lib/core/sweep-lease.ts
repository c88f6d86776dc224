// Sweep leases (CONTRACT §16): with brokers in several regions (or `credbroker dev --peer`), each shard of
// the due index is swept by the holder of its lease, a conditional write that names the holder and when
// the lease lapses. A holder renews its leases as it sweeps; a holder that is lost (a region down, a killed
// process) stops renewing, and its leases lapse within `leaseSeconds` for another sweeper to take over.
// Leases only spare duplicate work: every move of a grant stays a conditional write, so two sweepers that
// both believed they held a shard would still agree on one winner per transition.
import type { Clock } from "./clock.ts";

export const DEFAULT_LEASE_SECONDS = 120;

export interface LeaseRecord {
  holder: string;
  expiresAtMs: number;
}

export interface LeaseStore {
  /**
   * Takes or renews the lease of `shard` for `holder` until `untilMs`, in one conditional write: it
   * succeeds when the lease is free, has lapsed at `nowMs`, or is already `holder`'s. Answers whether
   * `holder` holds it now.
   */
  tryLease(shard: number, holder: string, nowMs: number, untilMs: number): Promise<boolean>;
  /** Gives the lease up (only when `holder` still has it), so another may take it at once. */
  release(shard: number, holder: string): Promise<void>;
  /** Every shard's lease as stored (for the status and tests). */
  list(): Promise<Map<number, LeaseRecord>>;
}

/** One sweeper's leases: who it is, how long a lease lasts, and the clock it judges lapse by. */
export class ShardLeases {
  readonly leaseMs: number;

  constructor(
    private readonly store: LeaseStore,
    readonly holder: string,
    private readonly clock: Clock,
    leaseSeconds = DEFAULT_LEASE_SECONDS,
  ) {
    if (!Number.isInteger(leaseSeconds) || leaseSeconds < 10 || leaseSeconds > 3600)
      throw new TypeError("leaseSeconds must be an integer from 10 to 3600");
    if (!/^[\w.:@/-]{1,128}$/.test(holder)) throw new TypeError("a lease holder is 1-128 word characters");
    this.leaseMs = leaseSeconds * 1000;
  }

  /** Takes or renews the shard's lease; false while another holder's lease is live. */
  hold(shard: number): Promise<boolean> {
    const now = this.clock.now();
    return this.store.tryLease(shard, this.holder, now, now + this.leaseMs);
  }

  release(shard: number): Promise<void> {
    return this.store.release(shard, this.holder);
  }
}
