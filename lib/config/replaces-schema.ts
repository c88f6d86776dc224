// CONTRACT §9's `replaces:`, in a file of its own so that workloads and every task kind's schema can take it.
import { z } from "zod";

/** An IAM user or role ARN (the long-lived identities a workload or task replaces, CONTRACT §9). */
const principalArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:(user|role)\/[\w+=,.@/-]{1,512}$/, "must be an IAM user or role ARN");

export const replacesSchema = z.array(principalArn).optional();
