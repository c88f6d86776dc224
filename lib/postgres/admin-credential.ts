// The broker's own PostgreSQL login, per database: a Secrets Manager secret holding JSON
// {username, password} (RDS's own secret format, so a rotated RDS secret works as it is), or in dev and
// tests an environment variable holding a postgres:// URL. Read when first needed, kept until a login fails.
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { z } from "zod";
import type { DatabaseConfig } from "../config/postgres-schema.ts";

export interface AdminCredential {
  user: string;
  password: string;
}

const secretJson = z.object({ username: z.string().min(1), password: z.string().min(1) }).passthrough();

/** Why the credential could not be had; never the secret's text, nor the URL. */
export class AdminCredentialUnavailable extends Error {
  constructor(readonly detail: string) {
    super(`admin credential unavailable (${detail})`);
    this.name = "AdminCredentialUnavailable";
  }
}

export async function readAdminCredential(
  db: DatabaseConfig,
  deps: { secrets: (region: string) => SecretsManagerClient; env: NodeJS.ProcessEnv },
): Promise<AdminCredential> {
  if (db.admin.urlEnv !== undefined) return fromUrl(deps.env[db.admin.urlEnv], db.admin.urlEnv);
  let text: string | undefined;
  try {
    // The secret's own region, from its ARN: the broker may run elsewhere.
    const region = db.admin.secretArn!.split(":")[3]!;
    const out = await deps.secrets(region).send(new GetSecretValueCommand({ SecretId: db.admin.secretArn }));
    text = out.SecretString;
  } catch (err) {
    throw new AdminCredentialUnavailable(`Secrets Manager: ${(err as Error).name}`);
  }
  let parsed: z.infer<typeof secretJson>;
  try {
    parsed = secretJson.parse(JSON.parse(text ?? ""));
  } catch {
    throw new AdminCredentialUnavailable("the secret is not JSON with username and password");
  }
  return { user: parsed.username, password: parsed.password };
}

/** Only the URL's user and password are used: host, port and database come from the config entry. */
function fromUrl(value: string | undefined, name: string): AdminCredential {
  if (!value) throw new AdminCredentialUnavailable(`environment variable ${name} is not set`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AdminCredentialUnavailable(`${name} is not a URL`);
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:")
    throw new AdminCredentialUnavailable(`${name} is not a postgres:// URL`);
  if (!url.username) throw new AdminCredentialUnavailable(`${name} names no user`);
  return { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
}
