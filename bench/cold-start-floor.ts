// The floor of `coldStartOverheadRatio` (CONTRACT §12): the least a Lambda that reads DynamoDB can do. It
// imports the SDK clients the token function imports (DynamoDB, STS, IAM, KMS), builds its DynamoDB client
// at module load as the token function does, and answers after one GetItem. The cold-start figure bundles it
// with the token bundle's settings and starts it with the same driver.
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { IAMClient } from "@aws-sdk/client-iam";
import { KMSClient } from "@aws-sdk/client-kms";
import { STSClient } from "@aws-sdk/client-sts";

const client = new DynamoDBClient({
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
});
const table = process.env["CREDBROKER_TABLE"] ?? "credbroker";

/** Exported so that the bundler keeps the other clients, as a function that uses them would. */
export const clients = { STSClient, IAMClient, KMSClient };

export const handler = async (): Promise<{ statusCode: number; body: string }> => {
  const out = await client.send(
    new GetItemCommand({ TableName: table, Key: { pk: { S: "SIGNALS#web-ci" }, sk: { S: "SIGNALS" } } }),
  );
  return { statusCode: 200, body: JSON.stringify(out.Item ?? {}) };
};
