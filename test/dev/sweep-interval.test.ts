// `credbroker dev`'s sweep timer: a run that outlasts the interval is not joined by the next ticks, so each
// run is reported (logged, handed to onSweep) once, and the summaries say how many runs really happened.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../lib/core/logger.ts";
import type { SweepSummary } from "../../lib/core/sweep.ts";
import { startDev } from "../../lib/local/dev-server.ts";
import { demoConfigFor, freePort } from "../support/dev.ts";

describe("credbroker dev's sweep interval", () => {
  it("reports each run once when runs take longer than the interval", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "cb-interval-"));
    const port = await freePort();
    const summaries: SweepSummary[] = [];
    // 5 ms: far shorter than one run (two dozen DynamoDB calls), so ticks keep landing mid-run.
    const dev = await startDev({
      configPath: await demoConfigFor(dataDir, port),
      port,
      inMemory: true,
      dataDir,
      sweepIntervalSeconds: 0.005,
      log: silentLogger,
      onSweep: (s) => summaries.push(s),
    });
    try {
      await expect.poll(() => summaries.length, { timeout: 30_000, interval: 50 }).toBeGreaterThanOrEqual(4);
    } finally {
      await dev.close();
    }
    // One object per run: a tick that joined a running sweep would hand the same summary over again.
    expect(new Set(summaries).size).toBe(summaries.length);
  });
});
