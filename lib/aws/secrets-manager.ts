// The secret provider's Secrets Manager adapter: GetSecretValue (AWSCURRENT), DescribeSecret and
// RotateSecret, each on a client of the secret's own region (read from its ARN). SDK errors become
// SecretsManagerUnavailable carrying the error's name only: a message may quote a secret's name or more.
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { secretRegion } from "../config/secret-schema.ts";
import {
  type SecretDescription,
  type SecretsManagerApi,
  SecretsManagerUnavailable,
  type SecretVersion,
} from "../core/providers/secret/ports.ts";

/** Secrets Manager's answer to RotateSecret while a rotation of the secret is still running. */
const ROTATION_IN_PROGRESS = /previous rotation isn.t complete|rotation .*in progress/i;

export function secretsManagerApi(clientFor: (region: string) => SecretsManagerClient): SecretsManagerApi {
  const send = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw new SecretsManagerUnavailable(operation, (err as Error)?.name ?? "unknown");
    }
  };
  return {
    async getCurrent(secretArn): Promise<SecretVersion> {
      const out = await send("GetSecretValue", () =>
        clientFor(secretRegion(secretArn)).send(
          new GetSecretValueCommand({ SecretId: secretArn, VersionStage: "AWSCURRENT" }),
        ),
      );
      if (!out.VersionId) throw new SecretsManagerUnavailable("GetSecretValue", "no VersionId");
      const name = out.Name ?? secretArn.split(":secret:")[1]!;
      if (out.SecretString !== undefined) return { name, versionId: out.VersionId, string: out.SecretString };
      if (out.SecretBinary !== undefined) return { name, versionId: out.VersionId, binary: out.SecretBinary };
      throw new SecretsManagerUnavailable("GetSecretValue", "no value");
    },

    async describe(secretArn): Promise<SecretDescription> {
      const out = await send("DescribeSecret", () =>
        clientFor(secretRegion(secretArn)).send(new DescribeSecretCommand({ SecretId: secretArn })),
      );
      const current = Object.entries(out.VersionIdsToStages ?? {}).find(([, stages]) =>
        stages.includes("AWSCURRENT"),
      )?.[0];
      return {
        name: out.Name ?? secretArn.split(":secret:")[1]!,
        rotationEnabled: out.RotationEnabled === true,
        ...(current ? { currentVersionId: current } : {}),
      };
    },

    async rotate(secretArn, clientRequestToken) {
      try {
        // The rotation function the secret already has, at once: never a new schedule or function.
        await clientFor(secretRegion(secretArn)).send(
          new RotateSecretCommand({ SecretId: secretArn, ClientRequestToken: clientRequestToken }),
        );
        return "started";
      } catch (err) {
        const e = err as Error;
        if (e?.name === "InvalidRequestException" && ROTATION_IN_PROGRESS.test(e.message ?? ""))
          return "in-progress";
        throw new SecretsManagerUnavailable("RotateSecret", e?.name ?? "unknown");
      }
    },
  };
}
