// The sweep-state item as read back from DynamoDB, checked strictly (STYLE.md §5): a malformed state
// fails the sweep loudly instead of silently skipping a re-evaluation.
import { z } from "zod";

export const sweepStateItemSchema = z
  .object({
    revision: z.number().int().min(1),
    configVersion: z.string().optional(),
    globalDigest: z.string().optional(),
    workloadDigests: z.record(z.string(), z.string()).optional(),
    pass: z
      .object({
        configVersion: z.string(),
        shard: z.number().int().min(0),
        key: z.string().optional(),
        startedAtMs: z.number(),
      })
      .strict()
      .optional(),
    dueCursor: z.string().optional(),
  })
  .strict();
