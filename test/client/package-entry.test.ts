// The client entry's source, lib/client/index.ts: what the package builds into `credbroker` (package-install
// checks the built copy exports the same), and that the provider fits the AWS SDK's credentials slot (checked
// by tsc through this file).
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import * as client from "../../lib/client/index.ts";

describe("the client entry", () => {
  it("exports the client API and nothing of the broker's internals", () => {
    expect(Object.keys(client).sort()).toEqual([
      "AWS_CREDENTIALS_TOKEN_TYPE",
      "ApprovalNotGranted",
      "BrokerClient",
      "BrokerClientError",
      "BrokerRequestError",
      "BrokerResponseInvalid",
      "BrokerUnreachable",
      "DEFAULT_REFRESH_BEFORE_EXPIRY_SECONDS",
      "JWT_TOKEN_TYPE",
      "POSTGRES_CREDENTIALS_TOKEN_TYPE",
      "TokenSourceError",
      "exchangeWaitingForApproval",
      "fromCredentialBroker",
      "fromGitHubActions",
      "fromTokenEnv",
      "fromTokenFile",
      "postgresEnvironment",
    ]);
  });

  it("gives a provider the SDK accepts as credentials", () => {
    const credentials: S3ClientConfig["credentials"] = client.fromCredentialBroker({
      url: "https://broker.example.com",
      task: "deploy-web",
      tokenFile: "/var/run/secrets/credbroker/token",
    });
    expect(new S3Client({ region: "us-east-1", credentials })).toBeInstanceOf(S3Client);
  });
});
