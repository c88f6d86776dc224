// The CDK app's stacks for a broker in several regions (CONTRACT §16; `npx cdk synth -c regions=A,B,C`):
// one CredbrokerStack per broker region, each with the whole broker (functions, API, schedules), the
// primary's stack holding the global table and the primary signing key. The replicas' stacks depend on
// it and read the key's ARN through a cross-region reference.
import type { Construct } from "constructs";
import { CredbrokerStack } from "./credbroker-stack.ts";
import type { CredentialBrokerProps } from "./credential-broker.ts";
import { assertMrscRegions, type BrokerRegions } from "./regions.ts";

export interface RegionStacksProps {
  readonly regions: BrokerRegions;
  readonly broker: Omit<CredentialBrokerProps, "regions" | "primaryBroker">;
  /** @default - the CLI's account (environment-agnostic account) */
  readonly account?: string;
  readonly description?: string;
}

/** `<id>-<region>` for each broker region, the primary first. */
export function credbrokerRegionStacks(
  scope: Construct,
  id: string,
  props: RegionStacksProps,
): CredbrokerStack[] {
  assertMrscRegions(props.regions);
  const stack = (region: string, primaryBroker?: CredbrokerStack["broker"]) =>
    new CredbrokerStack(scope, `${id}-${region}`, {
      env: { region, ...(props.account ? { account: props.account } : {}) },
      crossRegionReferences: true,
      ...(props.description ? { description: props.description } : {}),
      broker: { ...props.broker, regions: props.regions, ...(primaryBroker ? { primaryBroker } : {}) },
    });
  const primary = stack(props.regions.primary);
  const replicas = props.regions.replicas.map((region) => {
    const s = stack(region, primary.broker);
    s.addDependency(
      primary,
      "the global table and the primary signing key are created in the primary region",
    );
    return s;
  });
  return [primary, ...replicas];
}
