// What the audit trail keeps of each decision's inputs (CONTRACT §14): claims named here are left out of
// the recorded input, so a claim too personal to keep (an email, a name) is never stored. A decision whose
// policies read such a claim cannot be replayed by `policy impact`, and is reported so, never guessed.
import { z } from "zod";

export const auditSchema = z
  .object({
    /**
     * Claim names (as flattened for Cedar: `kubernetes.io.namespace`) left out of every recorded decision
     * input; a name also covers the claims nested under it (`email` covers `email.verified`).
     */
    omitClaims: z.array(z.string().min(1).max(256)).max(100).default([]),
  })
  .strict();
