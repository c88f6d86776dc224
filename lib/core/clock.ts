/** The time source, passed in so that tests freeze it and the core never reads the wall clock itself. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export function fixedClock(
  start: number | Date,
): Clock & { set(t: number | Date): void; advance(ms: number): void } {
  let t = typeof start === "number" ? start : start.getTime();
  return {
    now: () => t,
    set: (v) => {
      t = typeof v === "number" ? v : v.getTime();
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

export const epochSeconds = (ms: number): number => Math.floor(ms / 1000);
export const isoSeconds = (ms: number): string =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
