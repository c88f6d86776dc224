// The organisation inventory's queue (CONTRACT §16): the schedule enqueues one message per account
// (SendMessageBatch, ten a call); the worker parses each back strictly. A batch entry SQS refuses is sent
// again once, then the enqueue fails loudly, so no account is silently left out of a run.
import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { z } from "zod";
import type { AccountMessage } from "../core/inventory/organization.ts";

export const INVENTORY_QUEUE_ENV = "CREDBROKER_INVENTORY_QUEUE_URL";

const accountMessage = z
  .object({
    snapshotTime: z.string().datetime(),
    accountId: z.string().regex(/^\d{12}$/),
    roleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/),
  })
  .strict();

export const parseAccountMessage = (body: string): AccountMessage => accountMessage.parse(JSON.parse(body));

export async function enqueueAccounts(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly AccountMessage[],
): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    let entries = messages.slice(i, i + 10).map((m) => ({ Id: m.accountId, MessageBody: JSON.stringify(m) }));
    for (let attempt = 1; entries.length > 0; attempt++) {
      const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      const failed = new Set((out.Failed ?? []).map((f) => f.Id));
      if (failed.size > 0 && attempt >= 2)
        throw new Error(`SQS refused the messages of accounts ${[...failed].join(", ")}`);
      entries = entries.filter((e) => failed.has(e.Id));
    }
  }
}
