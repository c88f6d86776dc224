// The file route of `inventory sync`, for teams that cannot give the broker IAM read access: the credential
// report CSV (`aws iam get-credential-report --query Content --output text | base64 -d`) parsed with
// csv-parse, and the JSON of `aws iam get-account-authorization-details`, both streamed into the builder
// so neither file is held whole.
import { createReadStream } from "node:fs";
import { parse } from "csv-parse";
import { AccountBuilder, AUTHORIZATION_DETAIL_LISTS } from "../core/inventory/authorization-details.ts";
import { checkCredentialReportHeader, credentialRow } from "../core/inventory/credential-report.ts";
import { InventoryError } from "../core/inventory/errors.ts";
import { JsonElements } from "../core/inventory/json-elements.ts";
import type { AccountFacts } from "../core/inventory/model.ts";

const ioError = (what: string, path: string, err: unknown) =>
  new InventoryError(`${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);

export async function readCredentialReportFile(path: string, builder: AccountBuilder): Promise<number> {
  const parser = parse({
    columns: (header: string[]) => {
      checkCredentialReportHeader(header);
      return header;
    },
    bom: true,
    trim: true,
    skip_empty_lines: true,
  });
  const input = createReadStream(path);
  input.on("error", (err) => parser.destroy(ioError("cannot read the credential report", path, err)));
  input.pipe(parser);
  let rows = 0;
  try {
    for await (const record of parser as AsyncIterable<Record<string, string>>) {
      rows++;
      builder.addCredentialRow(credentialRow(record, rows + 1));
    }
  } catch (err) {
    input.destroy();
    if (err instanceof InventoryError) throw err;
    // csv-parse names the line and the problem (a row cut short, an unclosed quote): keep its message.
    throw new InventoryError(`credential report ${path}: ${(err as Error).message}`);
  }
  if (rows === 0) throw new InventoryError(`credential report ${path}: no rows (is the file empty?)`);
  return rows;
}

export async function readAuthorizationDetailsFile(path: string, builder: AccountBuilder): Promise<void> {
  const scanner = new JsonElements({
    what: `authorization details ${path}`,
    lists: AUTHORIZATION_DETAIL_LISTS,
    scalars: ["IsTruncated", "Marker"],
    onElement: (list, element) => builder.add(list as (typeof AUTHORIZATION_DETAIL_LISTS)[number], element),
    onScalar: (key, text) => {
      if (key === "IsTruncated" && text === "true")
        throw new InventoryError(
          `authorization details ${path}: the file is one page of several (IsTruncated is true); run the CLI without --max-items`,
        );
    },
  });
  const input = createReadStream(path, { encoding: "utf8", highWaterMark: 256 * 1024 });
  try {
    for await (const chunk of input) scanner.push(chunk as string);
  } catch (err) {
    input.destroy();
    if (err instanceof InventoryError) throw err;
    throw ioError("cannot read the authorization details", path, err);
  }
  scanner.end();
}

/**
 * The JSON of `aws secretsmanager list-secrets` (CONTRACT §15), streamed like the authorization details.
 * ListSecrets does not carry resource policies: an entry may have a `ResourcePolicy` added (the text
 * `aws secretsmanager get-resource-policy` prints under that name), and is judged without one otherwise.
 */
export async function readSecretsFile(path: string, builder: AccountBuilder): Promise<void> {
  builder.secretsRead();
  const scanner = new JsonElements({
    what: `secrets ${path}`,
    lists: ["SecretList"],
    scalars: ["NextToken"],
    onElement: (_list, element) => builder.addSecret(element),
    onScalar: (key, text) => {
      if (key === "NextToken" && text !== "null" && text !== "")
        throw new InventoryError(
          `secrets ${path}: the file is one page of several (it has a NextToken); run the CLI without --max-items`,
        );
    },
  });
  const input = createReadStream(path, { encoding: "utf8", highWaterMark: 256 * 1024 });
  try {
    for await (const chunk of input) scanner.push(chunk as string);
  } catch (err) {
    input.destroy();
    if (err instanceof InventoryError) throw err;
    throw ioError("cannot read the secrets", path, err);
  }
  scanner.end();
}

/** Both files of one account (and its secrets, when given), read into its facts; `accountId` must match the ARNs in them. */
export async function readAccountFiles(
  files: { credentialReport: string; authorizationDetails: string; secrets?: string; accountId?: string },
  ownerTagKeys: readonly string[],
): Promise<AccountFacts> {
  const builder = new AccountBuilder(ownerTagKeys);
  await readCredentialReportFile(files.credentialReport, builder);
  await readAuthorizationDetailsFile(files.authorizationDetails, builder);
  if (files.secrets) await readSecretsFile(files.secrets, builder);
  return builder.build(files.accountId);
}
