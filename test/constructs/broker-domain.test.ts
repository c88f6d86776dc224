// One issuerUrl for every region (CONTRACT §16): with `domainName`, the region's API is mapped under the
// custom domain (a DNS-validated certificate of its own region), and the hosted zone gets a latency record
// for this region with a health check of this region's own API endpoint; cdk-nag clean; an issuerUrl that
// is not the domain is refused at synth.
import { App, Stack, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { HostedZone } from "aws-cdk-lib/aws-route53";
import { AwsSolutionsChecks } from "cdk-nag";
import { beforeAll, describe, expect, it } from "vitest";
import { CredentialBroker } from "../../lib/constructs/credential-broker.ts";
import { deployConfig, writeConfig } from "./support.ts";

let stack: Stack;
let broker: CredentialBroker;
let template: Template;
const zoneOf = (s: Stack) =>
  HostedZone.fromHostedZoneAttributes(s, "Zone", { hostedZoneId: "Z0123456789ABC", zoneName: "example.com" });

beforeAll(() => {
  const app = new App();
  stack = new Stack(app, "Domain", { env: { account: "111122223333", region: "eu-west-1" } });
  broker = new CredentialBroker(stack, "Broker", {
    configPath: writeConfig(deployConfig()), // issuerUrl https://broker.example.com
    domainName: { name: "broker.example.com", hostedZone: zoneOf(stack) },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth(); // throws on any unacknowledged cdk-nag finding
  template = Template.fromStack(stack);
}, 300_000);

describe("CredentialBroker with a domainName", () => {
  it("maps the API under the domain with a certificate of its region", () => {
    template.hasResourceProperties("AWS::ApiGatewayV2::DomainName", { DomainName: "broker.example.com" });
    template.hasResourceProperties("AWS::CertificateManager::Certificate", {
      DomainName: "broker.example.com",
      ValidationMethod: "DNS",
    });
    template.resourceCountIs("AWS::ApiGatewayV2::ApiMapping", 1);
  });

  it("adds a latency record for its region, health-checked on its own endpoint", () => {
    template.hasResourceProperties("AWS::Route53::RecordSet", {
      Name: "broker.example.com.",
      Type: "A",
      Region: "eu-west-1",
      SetIdentifier: "credbroker-eu-west-1",
      HealthCheckId: { Ref: stack.getLogicalId(broker.domain!.healthCheck.node.defaultChild as never) },
    });
    const check = Object.values(template.findResources("AWS::Route53::HealthCheck"))[0]!;
    expect(check["Properties"]["HealthCheckConfig"]).toMatchObject({
      Type: "HTTPS",
      Port: 443,
      ResourcePath: "/.well-known/jwks.json",
      FullyQualifiedDomainName: {
        "Fn::Join": [
          "",
          [
            { Ref: stack.getLogicalId(broker.api.node.defaultChild as never) },
            ".execute-api.eu-west-1.",
            { Ref: "AWS::URLSuffix" },
          ],
        ],
      },
    });
  });

  it("refuses a domain that is not the config's issuerUrl", () => {
    const s = new Stack(new App(), "Other", { env: { account: "111122223333", region: "eu-west-1" } });
    expect(
      () =>
        new CredentialBroker(s, "Broker", {
          configPath: writeConfig(deployConfig()),
          domainName: { name: "other.example.com", hostedZone: zoneOf(s) },
        }),
    ).toThrow(
      "domainName: the config's issuerUrl is https://broker.example.com, but tokens of every region must carry https://other.example.com",
    );
  });
});
