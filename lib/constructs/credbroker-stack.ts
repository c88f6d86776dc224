// The stack `npx cdk deploy` deploys: one CredentialBroker plus the outputs a deployer needs. Users who
// build their own CDK app import CredentialBroker instead.
import { Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { CredentialBroker, type CredentialBrokerProps } from "./credential-broker.ts";

export interface CredbrokerStackProps extends StackProps {
  readonly broker: CredentialBrokerProps;
}

export class CredbrokerStack extends Stack {
  public readonly broker: CredentialBroker;

  constructor(scope: Construct, id: string, props: CredbrokerStackProps) {
    super(scope, id, props);
    this.broker = new CredentialBroker(this, "Broker", props.broker);
    this.broker.addOutputs();
  }
}
