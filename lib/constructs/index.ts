// The package's CDK entry (`import { CredentialBroker } from "credbroker/constructs"`): the constructs a
// user's CDK app needs and their props. Everything else under lib/ stays internal.
export { BrokerInventoryRole, type BrokerInventoryRoleProps } from "./broker-inventory-role.ts";
export { BrokerMemberRoles, type BrokerMemberRolesProps } from "./broker-member-roles.ts";
export { BrokerTargetRole, type BrokerTargetRoleProps } from "./broker-target-role.ts";
export {
  type BrokerAlarms,
  type BrokerFunctionName,
  CredentialBroker,
  type CredentialBrokerProps,
} from "./credential-broker.ts";
