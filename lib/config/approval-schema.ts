// CONTRACT §10's per-task `approval:`, in a file of its own so that every task kind's schema can take it.
import { z } from "zod";

/** CONTRACT §10: a task whose every request waits for people to approve it. Every task kind takes it. */
export const taskApprovalSchema = z
  .object({
    approvals: z.number().int().min(1).max(5).default(1),
    expiresInSeconds: z.number().int().min(60).max(86_400).default(900),
  })
  .strict();
