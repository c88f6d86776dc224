// One `issuerUrl` for every region (CONTRACT §16): the API under a custom domain in each region, and a
// latency record per region in the hosted zone, each with a health check of that region's own API
// endpoint, so Route 53 answers with the nearest healthy region and stops answering with a lost one.
import { Duration, Stack } from "aws-cdk-lib";
import { ApiMapping, DomainName, type HttpApi, type HttpStage } from "aws-cdk-lib/aws-apigatewayv2";
import { Certificate, CertificateValidation, type ICertificate } from "aws-cdk-lib/aws-certificatemanager";
import {
  ARecord,
  HealthCheck,
  HealthCheckType,
  type IHostedZone,
  RecordTarget,
} from "aws-cdk-lib/aws-route53";
import { ApiGatewayv2DomainProperties } from "aws-cdk-lib/aws-route53-targets";
import type { Construct } from "constructs";

export interface BrokerDomainProps {
  /** The broker's host name, e.g. `broker.example.com`; the config's issuerUrl must be `https://<name>`. */
  readonly name: string;
  /** The zone the records go into (`HostedZone.fromHostedZoneAttributes`: no lookup at synth). */
  readonly hostedZone: IHostedZone;
  /**
   * A certificate for `name` in this stack's region.
   * @default - one is created, validated by DNS in `hostedZone`
   */
  readonly certificate?: ICertificate;
}

export interface BrokerDomain {
  readonly domainName: DomainName;
  readonly record: ARecord;
  readonly healthCheck: HealthCheck;
}

/** The health check's path: public, cheap, and answered only when the functions and KMS work. */
export const HEALTH_CHECK_PATH = "/.well-known/jwks.json";

/** Refuses (TypeError) a domain that is not a host name or not the config's issuerUrl. */
export function checkBrokerDomain(props: BrokerDomainProps, issuerUrl: string): void {
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(props.name))
    throw new TypeError(`domainName: ${props.name} is not a host name`);
  if (issuerUrl.replace(/\/$/, "") !== `https://${props.name}`)
    throw new TypeError(
      `domainName: the config's issuerUrl is ${issuerUrl}, but tokens of every region must carry https://${props.name}`,
    );
}

export function addBrokerDomain(
  scope: Construct,
  api: HttpApi,
  stage: HttpStage,
  props: BrokerDomainProps,
  issuerUrl: string,
): BrokerDomain {
  checkBrokerDomain(props, issuerUrl);
  const region = Stack.of(scope).region;
  const certificate =
    props.certificate ??
    new Certificate(scope, "DomainCertificate", {
      domainName: props.name,
      validation: CertificateValidation.fromDns(props.hostedZone),
    });
  const domainName = new DomainName(scope, "Domain", { domainName: props.name, certificate });
  new ApiMapping(scope, "DomainMapping", { api, domainName, stage });
  const healthCheck = new HealthCheck(scope, "RegionHealth", {
    type: HealthCheckType.HTTPS,
    // This region's own endpoint, not the shared name: the check must see this region alone.
    fqdn: `${api.apiId}.execute-api.${region}.${Stack.of(scope).urlSuffix}`,
    port: 443,
    resourcePath: HEALTH_CHECK_PATH,
    requestInterval: Duration.seconds(30),
    failureThreshold: 3,
  });
  const record = new ARecord(scope, "LatencyRecord", {
    zone: props.hostedZone,
    recordName: props.name,
    target: RecordTarget.fromAlias(
      new ApiGatewayv2DomainProperties(domainName.regionalDomainName, domainName.regionalHostedZoneId),
    ),
    region,
    setIdentifier: `credbroker-${region}`,
    healthCheck,
  });
  return { domainName, record, healthCheck };
}
