// The broker's state across regions (CONTRACT §16): one DynamoDB global table with multi-Region strong
// consistency, so a conditional write is decided once for every region and a grant still leaves each
// status at most once; and one KMS multi-Region signing key, so every region signs with the same key
// material — the same `kid`, the same JWKS — and a token issued in one region introspects in another.
// The primary region's stack creates both; each replica region's stack refers to the table by its name
// and creates the key's replica from the primary key's ARN (a cross-region reference).
import { type RemovalPolicy, Stack, Token } from "aws-cdk-lib";
import {
  AttributeType,
  Billing,
  type ITable,
  MultiRegionConsistency,
  TableV2,
} from "aws-cdk-lib/aws-dynamodb";
import { CfnReplicaKey, type IKey, Key, KeySpec, KeyUsage } from "aws-cdk-lib/aws-kms";
import type { Construct } from "constructs";
import { TABLE_INDEXES, TABLE_KEYS } from "../aws/table-definition.ts";
import { assertMrscRegions, type BrokerRegions } from "./regions.ts";

export const DEFAULT_GLOBAL_TABLE_NAME = "credbroker";

export interface RegionsState {
  table: ITable;
  signingKey: IKey;
  /** This stack is the primary region's. */
  primary: boolean;
}

export function regionsState(
  scope: Construct,
  o: {
    regions: BrokerRegions;
    /** The primary region's signing key (its CredentialBroker's `signingKey`); replicas need it. */
    primarySigningKey?: IKey | undefined;
    tableName?: string | undefined;
    removalPolicy: RemovalPolicy;
  },
): RegionsState {
  const refuse = (message: string) => {
    throw new TypeError(`regions: ${message}`);
  };
  assertMrscRegions(o.regions);
  const here = Stack.of(scope).region;
  if (Token.isUnresolved(here))
    refuse("a multi-region broker needs a stack with an explicit region (env.region), one stack per region");
  if (here !== o.regions.primary && !o.regions.replicas.includes(here))
    refuse(
      here === o.regions.witness
        ? `${here} is the witness: it holds a vote for the table, no broker`
        : `this stack's region ${here} is neither the primary (${o.regions.primary}) nor a replica (${o.regions.replicas.join(", ")})`,
    );
  const tableName = o.tableName ?? DEFAULT_GLOBAL_TABLE_NAME;
  if (here !== o.regions.primary) {
    if (!o.primarySigningKey)
      refuse(
        `the broker in replica region ${here} needs primaryBroker: its signing key replicates the primary's`,
      );
    const replica = new CfnReplicaKey(scope, "SigningKey", {
      primaryKeyArn: o.primarySigningKey!.keyArn,
      description: "credbroker: replica of the multi-Region key that signs broker-issued JWTs (ES256)",
      keyPolicy: {
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "AccountAdministersTheKey",
            Effect: "Allow",
            Principal: { AWS: `arn:${Stack.of(scope).partition}:iam::${Stack.of(scope).account}:root` },
            Action: "kms:*",
            Resource: "*",
          },
        ],
      },
    });
    replica.applyRemovalPolicy(o.removalPolicy);
    return {
      table: TableV2.fromTableName(scope, "Table", tableName),
      signingKey: Key.fromKeyArn(scope, "SigningKeyReplica", replica.attrArn),
      primary: false,
    };
  }
  const table = new TableV2(scope, "Table", {
    tableName,
    partitionKey: { name: TABLE_KEYS.partitionKey, type: AttributeType.STRING },
    sortKey: { name: TABLE_KEYS.sortKey, type: AttributeType.STRING },
    billing: Billing.onDemand(),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: true,
    // No TTL: MRSC tables take none; the grants' and events' `ttl` attribute stays for the day they do.
    globalSecondaryIndexes: TABLE_INDEXES.map((i) => ({
      indexName: i.indexName,
      partitionKey: { name: i.partitionKey, type: AttributeType.STRING },
      sortKey: { name: i.sortKey, type: AttributeType.STRING },
    })),
    multiRegionConsistency: MultiRegionConsistency.STRONG,
    replicas: o.regions.replicas.map((region) => ({ region })),
    ...(o.regions.witness ? { witnessRegion: o.regions.witness } : {}),
    removalPolicy: o.removalPolicy,
  });
  const signingKey = new Key(scope, "SigningKey", {
    description: "credbroker: signs broker-issued JWTs (ES256), one multi-Region key for every region",
    keySpec: KeySpec.ECC_NIST_P256,
    keyUsage: KeyUsage.SIGN_VERIFY,
    multiRegion: true,
    removalPolicy: o.removalPolicy,
  });
  return { table, signingKey, primary: true };
}
