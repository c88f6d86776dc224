// Which task roles the broker may write revocations for. IAM's PutRolePolicy names a role, not an ARN: the
// broker's own IAM client writes in the broker's account, so for a role in another account it would deny
// a same-named role there instead, and record a revocation that ends nothing. Such a role is written only
// through the writer role its task names (revocationRoleArn); without one the revocation stays pending.
import { DependencyUnavailable } from "../../errors.ts";

export class RevocationRoleOutOfReach extends DependencyUnavailable {
  constructor(
    readonly roleArn: string,
    readonly account: string,
    brokerAccount: string,
  ) {
    super(
      `the revocation list of role ${roleArn}: it is in account ${account}, not the broker's; name a writer role there as the task's revocationRoleArn`,
      `role account ${account}, broker account ${brokerAccount}`,
    );
  }
}

/** The account in a role ARN (arn:PARTITION:iam::ACCOUNT:role/NAME); undefined when it has none. */
export const accountOfArn = (arn: string): string | undefined => /^arn:[^:]+:iam::(\d{12}):/.exec(arn)?.[1];

/**
 * Throws RevocationRoleOutOfReach when the role is in another account than the broker's own and no writer
 * role is named for it. `ownAccount` is asked only then, so a config of writer roles costs no lookup.
 */
export async function checkRevocationReach(
  roleArn: string,
  hasWriterRole: boolean,
  ownAccount: (() => Promise<string>) | undefined,
): Promise<void> {
  if (hasWriterRole || !ownAccount) return;
  const account = accountOfArn(roleArn);
  const broker = await ownAccount();
  if (account !== broker) throw new RevocationRoleOutOfReach(roleArn, account ?? "unknown", broker);
}
