// The credbroker deployment as one CDK construct: the table, the KMS signing key, one Lambda per handler
// (each with only the permissions it uses), the HTTP API of CONTRACT §4, the scheduled sweep and its alarms.
// The config and Cedar policies are validated while the construct is built, so a bad policy fails
// `cdk synth`, and they are bundled into every function, so what is deployed is exactly what was reviewed.
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CfnOutput, Duration, RemovalPolicy, Stack, Token, Validations } from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import {
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  type ThrottleSettings,
} from "aws-cdk-lib/aws-apigatewayv2";
import { HttpIamAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { AttributeType, BillingMode, type ITable, Table } from "aws-cdk-lib/aws-dynamodb";
import type { ISecurityGroup, IVpc, SubnetSelection } from "aws-cdk-lib/aws-ec2";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { Effect, PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { type IKey, Key, KeySpec, KeyUsage } from "aws-cdk-lib/aws-kms";
import { type Alias, Architecture, Runtime } from "aws-cdk-lib/aws-lambda";
import { SqsDestination } from "aws-cdk-lib/aws-lambda-destinations";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { FilterPattern, LogGroup, MetricFilter, RetentionDays } from "aws-cdk-lib/aws-logs";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { SWEEP_LEASE_ENV } from "../aws/lease-store.ts";
import { TABLE_INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from "../aws/table-definition.ts";
import { loadConfigFileSync, toConfigBundle } from "../config/load-sync.ts";
import { postgresDeployProblems } from "../config/postgres-schema.ts";
import { ConfigError, type ResolvedConfig } from "../config/resolve.ts";
import { type AwsStsTaskConfig, ROLE_ARN_PATTERN } from "../config/schema.ts";
import type { SecretTaskConfig } from "../config/secret-schema.ts";
import { accountOfArn } from "../core/providers/aws-sts/role-reach.ts";
import { DEFAULT_LEASE_SECONDS } from "../core/sweep-lease.ts";
import { CONFIG_BUNDLE_FILE, LAMBDA_ENV } from "../runtime/lambda-env.ts";
import {
  addBrokerDomain,
  type BrokerDomain,
  type BrokerDomainProps,
  checkBrokerDomain,
} from "./broker-domain.ts";
import { addBrokerEvents, type BrokerEvents, eventsDeployProblems } from "./broker-events.ts";
import { regionsState } from "./broker-regions-state.ts";
import { databaseRegionProblems, databasesReachedIn, deployedRegions } from "./database-regions.ts";
import { addInventorySync, type InventorySync } from "./inventory-sync.ts";
import {
  asyncCedarGlue,
  CEDAR_MODULE,
  CEDAR_WASM,
  LAMBDA_BANNER,
  LAMBDA_MAIN_FIELDS,
  LAMBDA_TARGET,
} from "./lambda-bundling.ts";
import {
  addOrganizationInventory,
  type OrganizationInventory,
  WORKER_TIMEOUT,
} from "./organization-inventory.ts";
import type { BrokerRegions } from "./regions.ts";
import { sweepLagWindow } from "./sweep-lag-window.ts";

/** The package root: the lambdas/ entries live there, and in a checkout the lock file too. */
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * In a checkout the repository's lock file pins what is bundled. Installed as a package there is none (npm
 * never packs package-lock.json), so CDK finds the user's app's lock file and root as it does by default.
 */
const OWN_LOCK_FILE = join(PROJECT_ROOT, "package-lock.json");
const BUNDLING_ROOT = existsSync(OWN_LOCK_FILE)
  ? { projectRoot: PROJECT_ROOT, depsLockFilePath: OWN_LOCK_FILE }
  : {};

export const METRICS_NAMESPACE = "credbroker";

export type BrokerFunctionName = "token" | "introspect" | "revoke" | "metadata" | "sweep" | "approvals";

export interface CredentialBrokerProps {
  /** Path of broker.config.yaml (or .json); its policy globs are resolved relative to it. */
  readonly configPath: string;
  /**
   * How often the sweep runs.
   * @default Schedule.rate(Duration.minutes(1))
   */
  readonly sweepSchedule?: Schedule;
  /**
   * Stage-wide throttling of the HTTP API.
   * @default { rateLimit: 50, burstLimit: 100 }
   */
  readonly throttle?: ThrottleSettings;
  /**
   * Shards of the due index; must stay the same for the life of a table.
   * @default 8
   */
  readonly dueShards?: number;
  /**
   * Retention of the function and access logs.
   * @default RetentionDays.ONE_YEAR
   */
  readonly logRetention?: RetentionDays;
  /**
   * The sweep-lag alarm fires when an expired grant is still active this long after its expiry.
   * @default Duration.minutes(5)
   */
  readonly sweepLagThreshold?: Duration;
  /**
   * What happens to the table and the signing key when the stack is deleted. Both hold state that outlives
   * a deployment (grants, audit, the key that verifies issued tokens), so they are kept by default.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Task roles (in the broker's account) no longer named by any aws-sts task whose sessions may still be
   * live. The sweep revokes the grants of a removed task, or of a task whose `roleArn` changed, by writing
   * the old role's `credbroker-revocations` policy; without this the IAM write is denied and those sessions
   * stay valid until they expire. Keep a removed task's role here until its grants have expired: at most the
   * task's maxDurationSeconds after the config change is deployed. Only revocation rights are kept; no
   * function may assume these roles.
   * @default - none
   */
  readonly retiredTaskRoleArns?: readonly string[];
  /**
   * How often the entitlement inventory is synced, when the config has an `inventory` block.
   * @default Schedule.rate(Duration.days(1))
   */
  readonly inventorySchedule?: Schedule;
  /**
   * The VPC of the functions that reach the config's databases (token, revoke and sweep; no other function
   * runs in it). Give it when a postgres task's database is private; the subnets then need a route to
   * DynamoDB, KMS, STS and Secrets Manager (a NAT gateway or VPC endpoints). See docs/postgres.md.
   * @default - the functions run outside any VPC
   */
  readonly vpc?: IVpc;
  /**
   * Where in `vpc` those functions run.
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: SubnetSelection;
  /**
   * Security groups of those functions; the databases' groups must admit them on the database port.
   * @default - one group per function, allowing all outbound traffic
   */
  readonly securityGroups?: ISecurityGroup[];
  /**
   * A broker in several regions (CONTRACT §16), one stack per region, each given the same `regions`: the
   * table becomes a global table with multi-Region strong consistency (created by the primary's stack),
   * the signing key a multi-Region key, and the sweep works under shard leases. A region set MRSC cannot
   * take is refused at synth with the reason.
   * @default - one region, a regional table and key
   */
  readonly regions?: BrokerRegions;
  /** In a replica region's stack: the primary region's broker, whose signing key this region replicates. */
  readonly primaryBroker?: CredentialBroker;
  /**
   * The global table's name (every region's stack must agree on it); only with `regions`.
   * @default "credbroker"
   */
  readonly globalTableName?: string;
  /**
   * How long a sweeper's shard lease lasts; a lost region's shards are taken over this long after its last
   * renewal. Only with `regions` (a single region has one sweeper).
   * @default 120
   */
  readonly leaseSeconds?: number;
  /**
   * One `issuerUrl` for every region: the API under this domain, with a latency record and a health check
   * per region (CONTRACT §16). The config's issuerUrl must be `https://<name>`.
   * @default - the API's own URL only
   */
  readonly domainName?: BrokerDomainProps;
  /**
   * Instances of the token function kept initialised (Lambda provisioned concurrency, on an alias `live`
   * that the /token route invokes), for callers that must never wait for a cold start. Billed while
   * provisioned, used or not.
   * @default - none: instances start on demand
   */
  readonly tokenProvisionedConcurrency?: number;
}

export interface BrokerAlarms {
  /** The sweep function failed (an invocation error, including a failed cold start). */
  readonly sweepErrors: Alarm;
  /**
   * An active grant is overdue for expiry, or the sweep stopped reporting (missing data breaches). Its period
   * spans two runs of a `rate` schedule (at least 5 minutes); with a cron schedule, or a rate slower than 12
   * hours, missing data does not breach, so only a reported lag alarms.
   */
  readonly sweepLag: Alarm;
  /** POST /token answered 5xx (503 means a dependency failed and nothing was issued). */
  readonly token5xx: Alarm;
}

export class CredentialBroker extends Construct {
  /** The config and policies as validated at synth and bundled into every function. */
  public readonly resolvedConfig: ResolvedConfig;
  /** The regional table, or with `regions` the global table (a TableV2 in the primary's stack). */
  public readonly table: ITable;
  /**
   * ECC_NIST_P256 SIGN_VERIFY key for broker-signed JWTs; the private key never leaves KMS. With `regions`,
   * a multi-Region key (the primary) or its replica.
   */
  public readonly signingKey: IKey;
  public readonly api: HttpApi;
  public readonly stage: HttpStage;
  /** The API's base URL (the $default stage), ending in `/`. */
  public readonly url: string;
  public readonly functions: Readonly<Record<BrokerFunctionName, NodejsFunction>>;
  public readonly sweepRule: Rule;
  /** Receives sweep events that could not be delivered or whose invocation failed. */
  public readonly deadLetterQueue: Queue;
  public readonly accessLogGroup: LogGroup;
  public readonly alarms: BrokerAlarms;
  /** The aws-sts task roles of the config: what /token may assume and the sweep may revoke on. */
  public readonly taskRoleArns: readonly string[];
  /** Roles of removed tasks the sweep and revoke functions may still write revocations on (and nothing else). */
  public readonly retiredTaskRoleArns: readonly string[];
  /** The cross-account revocation writer roles (tasks' `revocationRoleArn`) the sweep and revoke assume. */
  public readonly revocationWriterArns: readonly string[];
  /** The daily inventory sync (function, schedule, alarm); only when the config has an `inventory` block. */
  public readonly inventory?: InventorySync;
  /** With `inventory.organization`: the account queue, its worker and alarms (CONTRACT §16). */
  public readonly organizationInventory?: OrganizationInventory;
  /** The custom domain, its latency record and health check (only with `domainName`). */
  public readonly domain?: BrokerDomain;
  /**
   * The admin secrets of the databases this region reaches (all but those whose `regions` leave it out),
   * which only the token, revoke and sweep functions may read.
   */
  public readonly databaseSecretArns: readonly string[];
  /**
   * Keeps GitHub installation tokens as ciphertext on their grants (only with `githubApps`): /token may
   * encrypt, only the revoke and sweep functions may decrypt, always under a `credbroker-grant` context.
   */
  public readonly tokenKey?: Key;
  /** The token function's alias `live` with its provisioned concurrency, when `tokenProvisionedConcurrency` is set. */
  public readonly tokenAlias?: Alias;
  /** The KMS keys holding the GitHub Apps' private keys; only /token may sign with them. */
  public readonly githubAppKeyArns: readonly string[];
  /** Task end and findings (CONTRACT §13): the events function, rules and alarm; only with `events`. */
  public readonly events?: BrokerEvents;

  constructor(scope: Construct, id: string, props: CredentialBrokerProps) {
    super(scope, id);
    const dueShards = props.dueShards ?? 8;
    if (!Number.isInteger(dueShards) || dueShards < 1 || dueShards > 64)
      throw new TypeError("dueShards must be an integer 1..64");
    const provisioned = props.tokenProvisionedConcurrency;
    if (provisioned !== undefined && (!Number.isInteger(provisioned) || provisioned < 1))
      throw new TypeError("tokenProvisionedConcurrency must be a whole number of instances, at least 1");
    if (!props.vpc && (props.vpcSubnets || props.securityGroups))
      throw new TypeError("vpcSubnets and securityGroups need vpc");
    if (!props.regions && (props.primaryBroker || props.globalTableName || props.leaseSeconds !== undefined))
      throw new TypeError("primaryBroker, globalTableName and leaseSeconds need regions");
    if (
      props.leaseSeconds !== undefined &&
      !(Number.isInteger(props.leaseSeconds) && props.leaseSeconds >= 10 && props.leaseSeconds <= 3600)
    )
      throw new TypeError("leaseSeconds must be an integer from 10 to 3600");
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? RetentionDays.ONE_YEAR;

    // 1. Validate config and Cedar policies now: a ConfigError here fails synth with file:line:col.
    this.resolvedConfig = loadConfigFileSync(props.configPath);
    // The stack's own region, when synth knows it (each region's stack of a multi-region broker does).
    const stackRegion = Token.isUnresolved(Stack.of(scope).region) ? undefined : Stack.of(scope).region;
    const databasesHere = databasesReachedIn(this.resolvedConfig.config.databases, stackRegion);
    const deployProblems = [
      ...postgresDeployProblems(this.resolvedConfig.config.databases),
      ...databaseRegionProblems(
        this.resolvedConfig.config.databases,
        deployedRegions(props.regions, stackRegion),
      ),
      ...eventsDeployProblems(this.resolvedConfig.config.events),
    ];
    if (deployProblems.length > 0) throw new ConfigError(props.configPath, deployProblems);
    refusePemKeys(this.resolvedConfig, props.configPath);
    if (props.domainName) checkBrokerDomain(props.domainName, this.resolvedConfig.config.issuerUrl);
    this.taskRoleArns = [
      ...new Set(
        this.resolvedConfig.config.tasks
          .filter((t): t is AwsStsTaskConfig => t.provider === "aws-sts")
          .map((t) => t.roleArn),
      ),
    ];
    this.retiredTaskRoleArns = retiredRoles(
      props.retiredTaskRoleArns ?? [],
      this.taskRoleArns,
      Stack.of(scope).account,
    );
    this.revocationWriterArns = [
      ...new Set(
        this.resolvedConfig.config.tasks
          .filter((t): t is AwsStsTaskConfig => t.provider === "aws-sts" && t.revocationRoleArn !== undefined)
          .map((t) => t.revocationRoleArn!),
      ),
    ];
    // Only the databases this region reaches (databases[].regions): the others' secrets are not read here.
    this.databaseSecretArns = [
      ...new Set(databasesHere.flatMap((d) => (d.admin.secretArn ? [d.admin.secretArn] : []))),
    ];
    // The VPC is for the databases: a region that reaches none of the config's databases runs outside it.
    const vpc =
      this.resolvedConfig.config.databases.length > 0 && databasesHere.length === 0 ? undefined : props.vpc;
    this.githubAppKeyArns = [
      ...new Set(this.resolvedConfig.config.githubApps.flatMap((a) => a.privateKey.kmsKeyArn ?? [])),
    ];
    const bundleDir = mkdtempSync(join(tmpdir(), "credbroker-config-"));
    const bundleFile = join(bundleDir, CONFIG_BUNDLE_FILE);
    const cedarGlue = asyncCedarGlue(join(bundleDir, "cedar"));
    writeFileSync(bundleFile, JSON.stringify(toConfigBundle(this.resolvedConfig)));

    // 2. State: the table (layout shared with the store and `credbroker dev`) and the signing key.
    if (props.regions) {
      const state = regionsState(this, {
        regions: props.regions,
        primarySigningKey: props.primaryBroker?.signingKey,
        tableName: props.globalTableName,
        removalPolicy,
      });
      this.table = state.table;
      this.signingKey = state.signingKey;
    } else {
      const table = new Table(this, "Table", {
        partitionKey: { name: TABLE_KEYS.partitionKey, type: AttributeType.STRING },
        sortKey: { name: TABLE_KEYS.sortKey, type: AttributeType.STRING },
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: true,
        timeToLiveAttribute: TTL_ATTRIBUTE,
        removalPolicy,
      });
      for (const index of TABLE_INDEXES) {
        table.addGlobalSecondaryIndex({
          indexName: index.indexName,
          partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
          sortKey: { name: index.sortKey, type: AttributeType.STRING },
        });
      }
      this.table = table;
      this.signingKey = new Key(this, "SigningKey", {
        description: "credbroker: signs broker-issued JWT access tokens (ES256)",
        keySpec: KeySpec.ECC_NIST_P256,
        keyUsage: KeyUsage.SIGN_VERIFY,
        removalPolicy,
      });
    }
    // No rotation: KMS cannot rotate asymmetric keys automatically (cdk-nag KMS5 applies to symmetric keys only).
    if (this.githubAppKeyArns.length > 0)
      this.tokenKey = new Key(this, "GithubTokenKey", {
        description: "credbroker: keeps GitHub installation tokens encrypted on their grants until deleted",
        enableKeyRotation: true,
        removalPolicy,
      });

    // 3. One function per handler, each with its own role and log group.
    const makeFunction = (
      name: BrokerFunctionName | "inventory" | "events" | "inventory-worker",
      options: { timeout: Duration; signs: boolean; memorySize?: number; reachesDatabases?: boolean },
    ): NodejsFunction => {
      const logGroup = new LogGroup(this, `${name}Logs`, {
        retention: logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const role = new Role(this, `${name}Role`, {
        assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
        description: `credbroker ${name} function`,
      });
      const fn = new NodejsFunction(this, `${name}Function`, {
        entry: join(PROJECT_ROOT, "lambdas", `${name}.ts`),
        handler: "handler",
        ...BUNDLING_ROOT,
        runtime: Runtime.NODEJS_24_X,
        architecture: Architecture.ARM_64,
        memorySize: options.memorySize ?? 512,
        timeout: options.timeout,
        role,
        logGroup,
        ...(options.reachesDatabases && vpc
          ? {
              vpc,
              ...(props.vpcSubnets ? { vpcSubnets: props.vpcSubnets } : {}),
              ...(props.securityGroups ? { securityGroups: props.securityGroups } : {}),
            }
          : {}),
        environment: {
          [LAMBDA_ENV.table]: this.table.tableName,
          [LAMBDA_ENV.configBundle]: CONFIG_BUNDLE_FILE,
          [LAMBDA_ENV.dueShards]: String(dueShards),
          ...(options.signs ? { [LAMBDA_ENV.signingKey]: this.signingKey.keyArn } : {}),
          ...(this.tokenKey && ["token", "revoke", "sweep"].includes(name)
            ? { [LAMBDA_ENV.tokenKey]: this.tokenKey.keyArn }
            : {}),
        },
        bundling: {
          format: OutputFormat.ESM,
          target: LAMBDA_TARGET,
          minify: true,
          sourceMap: false,
          // Everything is bundled, the AWS SDK included: the deployed code is pinned by package-lock.json,
          // not by whatever SDK the Lambda runtime carries that day.
          externalModules: [],
          mainFields: LAMBDA_MAIN_FIELDS,
          banner: LAMBDA_BANNER,
          // Cedar's glue that compiles its wasm asynchronously, overlapping the rest of the init phase.
          esbuildArgs: { [`--alias:${CEDAR_MODULE}`]: cedarGlue },
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: (_input: string, output: string) => [
              `cp "${CEDAR_WASM}" "${output}/cedar_wasm_bg.wasm"`,
              `cp "${bundleFile}" "${output}/${CONFIG_BUNDLE_FILE}"`,
            ],
          },
        },
      });
      logGroup.grantWrite(role);
      return fn;
    };
    // Near API Gateway's 30 s limit on purpose: a stalled AWS call must end in the SDK's own timeout (and
    // its retries), which the handler answers with 503, not in a Lambda timeout, which reaches clients as 5xx.
    const token = makeFunction("token", {
      timeout: Duration.seconds(29),
      signs: true,
      reachesDatabases: true,
    });
    const introspect = makeFunction("introspect", { timeout: Duration.seconds(10), signs: true });
    const revoke = makeFunction("revoke", {
      timeout: Duration.seconds(29),
      signs: true,
      reachesDatabases: true,
    });
    const metadata = makeFunction("metadata", { timeout: Duration.seconds(10), signs: true });
    const sweep = makeFunction("sweep", {
      timeout: Duration.seconds(60),
      signs: false,
      reachesDatabases: true,
    });
    // People approve and deny requests (CONTRACT §10); it signs nothing.
    const approvals = makeFunction("approvals", { timeout: Duration.seconds(29), signs: false });
    this.functions = { token, introspect, revoke, metadata, sweep, approvals };
    if (props.regions)
      sweep.addEnvironment(SWEEP_LEASE_ENV, String(props.leaseSeconds ?? DEFAULT_LEASE_SECONDS));
    if (props.tokenProvisionedConcurrency !== undefined)
      this.tokenAlias = token.addAlias("live", {
        provisionedConcurrentExecutions: props.tokenProvisionedConcurrency,
      });

    // 4. Least privilege, statement by statement: named actions on named resources.
    const tableArn = this.table.tableArn;
    const indexArn = (name: string) => `${tableArn}/index/${name}`;
    const allow = (fn: NodejsFunction, sid: string, actions: string[], resources: string[]) =>
      fn.addToRolePolicy(new PolicyStatement({ sid, effect: Effect.ALLOW, actions, resources }));
    // Grant records, audit events and signals are single items; nothing on a request path queries.
    // DeleteItem: a request that lost the race for its open-approval slot removes its own never-announced
    // record (the role's PutItem could overwrite it anyway, so this adds no power).
    allow(
      token,
      "GrantStore",
      ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
      [tableArn],
    );
    // Approval requests are single items (conditional puts); the pending list is the sparse index gsi3.
    allow(approvals, "ApprovalStore", ["dynamodb:GetItem", "dynamodb:PutItem"], [tableArn]);
    allow(approvals, "PendingApprovals", ["dynamodb:Query"], [indexArn("gsi3")]);
    allow(introspect, "GrantStore", ["dynamodb:GetItem"], [tableArn]);
    allow(revoke, "GrantStore", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], [tableArn]);
    // The sweep also keeps its own state and re-evaluation marks in the table: it queries the marks'
    // partition and deletes a mark once handled.
    allow(
      sweep,
      "GrantStore",
      [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
      ],
      [tableArn],
    );
    // The sweep reads the due index (gsi2) and the live-grants index (gsi3, for re-evaluation by workload).
    allow(sweep, "GrantIndexes", ["dynamodb:Query"], [indexArn("gsi2"), indexArn("gsi3")]);
    // Only /token signs; every request function derives the JWKS from the public key at cold start.
    allow(token, "SignTokens", ["kms:Sign"], [this.signingKey.keyArn]);
    for (const fn of [token, introspect, revoke, metadata])
      allow(fn, "ReadPublicKey", ["kms:GetPublicKey"], [this.signingKey.keyArn]);
    if (this.taskRoleArns.length > 0)
      allow(
        token,
        "AssumeTaskRoles",
        ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
        [...this.taskRoleArns],
      );
    // GitHub: only /token signs App JWTs (and only with the algorithm the App JWT uses) and seals tokens;
    // only the functions that end grants may open them, and only under a grant's encryption context.
    if (this.githubAppKeyArns.length > 0)
      token.addToRolePolicy(
        new PolicyStatement({
          sid: "SignGithubAppJwts",
          actions: ["kms:Sign"],
          resources: [...this.githubAppKeyArns],
          conditions: { StringEquals: { "kms:SigningAlgorithm": "RSASSA_PKCS1_V1_5_SHA_256" } },
        }),
      );
    if (this.tokenKey) {
      const grantContext = {
        "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": ["credbroker-grant"] },
        Null: { "kms:EncryptionContext:credbroker-grant": "false" },
      };
      token.addToRolePolicy(
        new PolicyStatement({
          sid: "SealGithubTokens",
          actions: ["kms:Encrypt"],
          resources: [this.tokenKey.keyArn],
          conditions: grantContext,
        }),
      );
      for (const fn of [revoke, sweep])
        fn.addToRolePolicy(
          new PolicyStatement({
            sid: "OpenGithubTokens",
            actions: ["kms:Decrypt"],
            resources: [this.tokenKey.keyArn],
            conditions: grantContext,
          }),
        );
    }
    // IAM has no condition key for an inline policy's name, so this is scoped by role ARN only; the
    // provider writes nothing but credbroker-revocations (see docs/deploy.md). Retired roles keep this right
    // (and only this) so that the sweep can still cut off their live sessions.
    const revocable = [...this.taskRoleArns, ...this.retiredTaskRoleArns];
    if (revocable.length > 0)
      for (const fn of [sweep, revoke])
        allow(
          fn,
          "WriteRevocations",
          ["iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy"],
          revocable,
        );
    // Task roles in other accounts are written through the writer role BrokerTargetRole creates there.
    if (this.revocationWriterArns.length > 0)
      for (const fn of [sweep, revoke])
        allow(fn, "AssumeRevocationWriters", ["sts:AssumeRole"], [...this.revocationWriterArns]);

    // In a VPC, Lambda attaches the functions' network interfaces with the functions' own roles. CDK adds a
    // managed policy for that only to roles it creates itself, so the statements are spelled out here.
    if (vpc) {
      const { partition, region, account } = Stack.of(this);
      const ec2 = (type: string) => `arn:${partition}:ec2:${region}:${account}:${type}/*`;
      for (const fn of [token, revoke, sweep]) {
        allow(
          fn,
          "ManageVpcNetworkInterfaces",
          [
            "ec2:AssignPrivateIpAddresses",
            "ec2:CreateNetworkInterface",
            "ec2:DeleteNetworkInterface",
            "ec2:UnassignPrivateIpAddresses",
          ],
          [ec2("network-interface"), ec2("subnet"), ec2("security-group")],
        );
        allow(
          fn,
          "DescribeVpcNetworkInterfaces",
          ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
          ["*"],
        );
        // cdk-nag names each wildcard resource as it renders it: tokens as <AWS::Name>.
        const shown = (v: string, name: string) => (Token.isUnresolved(v) ? `<AWS::${name}>` : v);
        const nagArn = (type: string) =>
          `arn:<AWS::Partition>:ec2:${shown(region, "Region")}:${shown(account, "AccountId")}:${type}/*`;
        for (const resource of [...["network-interface", "subnet", "security-group"].map(nagArn), "*"])
          Validations.of(fn.role!).acknowledge({
            id: `AwsSolutions-IAM5[Resource::${resource}]`,
            reason:
              "Lambda's VPC networking: interface ids are not known before Lambda creates them, and EC2 Describe actions support no resource-level permissions; the statements name the interface, subnet and security-group types only.",
          });
      }
    }

    // The functions that create and drop PostgreSQL roles read the admin secrets; no other function may.
    if (this.databaseSecretArns.length > 0)
      for (const fn of [token, revoke, sweep])
        allow(
          fn,
          "ReadDatabaseAdminSecrets",
          ["secretsmanager:GetSecretValue"],
          [...this.databaseSecretArns],
        );

    // Secret tasks (CONTRACT §15): /token reads the named secrets (and checks their rotation); revoke and
    // the sweep start their rotations; each secret's customer key only where a task names it.
    const secretGrants = secretTaskGrants(this.resolvedConfig);
    if (secretGrants.read.length > 0)
      allow(
        token,
        "ReadTaskSecrets",
        ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
        secretGrants.read,
      );
    if (secretGrants.rotate.length > 0)
      for (const fn of [revoke, sweep]) {
        allow(
          fn,
          "RotateTaskSecrets",
          ["secretsmanager:DescribeSecret", "secretsmanager:RotateSecret"],
          secretGrants.rotate,
        );
        // A rotation's claim is released (one conditional DeleteItem) when RotateSecret fails.
        if (fn === revoke) allow(fn, "ReleaseRotationClaims", ["dynamodb:DeleteItem"], [tableArn]);
      }
    for (const [region, keys] of secretGrants.keys)
      token.addToRolePolicy(
        new PolicyStatement({
          sid: `DecryptTaskSecrets${region.replace(/-/g, "")}`,
          effect: Effect.ALLOW,
          actions: ["kms:Decrypt"],
          resources: keys,
          conditions: { StringEquals: { "kms:ViaService": `secretsmanager.${region}.amazonaws.com` } },
        }),
      );

    // 5. The HTTP API (CONTRACT §4). ANY routes, so that a wrong method reaches the handler and gets the
    // contract's 405 rather than API Gateway's 404.
    this.accessLogGroup = new LogGroup(this, "AccessLogs", {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new HttpApi(this, "Api", {
      description: "credbroker: OAuth token exchange for workloads",
      createDefaultStage: false,
    });
    this.stage = new HttpStage(this, "Stage", {
      httpApi: this.api,
      stageName: "$default",
      autoDeploy: true,
      throttle: props.throttle ?? { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup),
        // No query string, headers or body: a subject token must never reach a log.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: "$context.requestId",
            apiId: "$context.apiId",
            routeKey: "$context.routeKey",
            status: "$context.status",
            ip: "$context.identity.sourceIp",
            time: "$context.requestTime",
            latencyMs: "$context.responseLatency",
            integrationError: "$context.integrationErrorMessage",
          }).replace('"$context.status"', "$context.status"),
        ),
      },
    });
    this.url = this.stage.url;
    if (props.domainName)
      this.domain = addBrokerDomain(
        this,
        this.api,
        this.stage,
        props.domainName,
        this.resolvedConfig.config.issuerUrl,
      );
    const route = (path: string, fn: NodejsFunction, iamAuth = false) =>
      this.api.addRoutes({
        path,
        methods: [HttpMethod.ANY],
        integration: new HttpLambdaIntegration(
          `${fn.node.id}Integration`,
          fn === token && this.tokenAlias ? this.tokenAlias : fn,
        ),
        ...(iamAuth ? { authorizer: new HttpIamAuthorizer() } : {}),
      });
    const publicRoutes = [
      ...route("/token", token),
      ...route("/revoke", revoke),
      ...route("/.well-known/jwks.json", metadata),
      ...route("/.well-known/oauth-authorization-server", metadata),
      ...route("/approvals", approvals),
      ...route("/approvals/{id}", approvals),
    ];
    route("/introspect", introspect, true);
    for (const r of publicRoutes) {
      Validations.of(r).acknowledge({
        id: "AwsSolutions-APIG4",
        reason:
          "OAuth endpoints: /token and /revoke authenticate the caller by its signed subject token (RFC 8693/7009), /approvals by the approver's signed bearer token (RFC 6750, verified against approvals.issuers only), and the JWKS and RFC 8414 metadata are public by design. /introspect uses IAM auth.",
      });
    }

    // 6. The sweep on a schedule. A failed run needs no retry (the next run resumes), but is kept.
    this.deadLetterQueue = new Queue(this, "SweepDeadLetters", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: "AwsSolutions-SQS3",
      reason:
        "This queue is itself the dead-letter destination of the sweep schedule and function; it has none of its own.",
    });
    sweep.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: Duration.minutes(5),
      onFailure: new SqsDestination(this.deadLetterQueue),
    });
    const sweepSchedule = props.sweepSchedule ?? Schedule.rate(Duration.minutes(1));
    this.sweepRule = new Rule(this, "SweepSchedule", {
      description: "credbroker: runs the grant sweep",
      schedule: sweepSchedule,
      targets: [
        new LambdaFunction(sweep, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 2,
          maxEventAge: Duration.minutes(5),
        }),
      ],
    });

    // 7. Alarms. Users attach actions (SNS, chat) through `alarms.*.addAlarmAction`.
    const period = Duration.minutes(5);
    const lagWindow = sweepLagWindow(sweepSchedule);
    const token5xxMetricName = "Token5xx";
    new MetricFilter(this, "Token5xxFilter", {
      logGroup: this.accessLogGroup,
      filterPattern: FilterPattern.all(
        FilterPattern.stringValue("$.routeKey", "=", "ANY /token"),
        FilterPattern.numberValue("$.status", ">=", 500),
      ),
      metricNamespace: METRICS_NAMESPACE,
      metricName: token5xxMetricName,
      metricValue: "1",
      dimensions: { ApiId: "$.apiId" },
    });
    this.alarms = {
      sweepErrors: new Alarm(this, "SweepErrorsAlarm", {
        alarmDescription: "credbroker sweep failed: expiries and revocations are not being applied",
        // A run that crashed (Lambda Errors) or whose steps failed while it still returned (SweepErrors).
        metric: new MathExpression({
          expression: "FILL(crashed, 0) + FILL(failedSteps, 0)",
          usingMetrics: {
            crashed: sweep.metricErrors({ period, statistic: "Sum" }),
            failedSteps: new Metric({
              namespace: METRICS_NAMESPACE,
              metricName: "SweepErrors",
              dimensionsMap: { FunctionName: sweep.functionName },
              statistic: "Sum",
              period,
            }),
          },
          period,
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      sweepLag: new Alarm(this, "SweepLagAlarm", {
        alarmDescription:
          "credbroker sweep is behind: an expired grant is still active, or the sweep stopped reporting",
        metric: new Metric({
          namespace: METRICS_NAMESPACE,
          metricName: "SweepLagSeconds",
          dimensionsMap: { FunctionName: sweep.functionName },
          statistic: "Maximum",
          period: lagWindow.period,
        }),
        threshold: (props.sweepLagThreshold ?? Duration.minutes(5)).toSeconds(),
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: lagWindow.treatMissingData,
      }),
      token5xx: new Alarm(this, "Token5xxAlarm", {
        alarmDescription:
          "credbroker POST /token answered 5xx: a dependency failed and workloads got no credential",
        metric: new Metric({
          namespace: METRICS_NAMESPACE,
          metricName: token5xxMetricName,
          dimensionsMap: { ApiId: this.api.apiId },
          statistic: "Sum",
          period,
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    };

    // 8. The entitlement inventory (CONTRACT §9), only when configured: a daily sync with IAM read access.
    const inventory = this.resolvedConfig.config.inventory;
    if (inventory?.organization) {
      this.organizationInventory = addOrganizationInventory(
        this,
        makeFunction("inventory", { timeout: Duration.minutes(5), signs: false }),
        makeFunction("inventory-worker", { timeout: WORKER_TIMEOUT, signs: false, memorySize: 1024 }),
        {
          organization: inventory.organization,
          tableArn,
          indexArns: [indexArn("gsi1"), indexArn("gsi3")],
          brokerRoleArns: [token, sweep, revoke].map((fn) => fn.role!.roleArn),
          schedule: props.inventorySchedule ?? Schedule.rate(Duration.days(1)),
          scheduleDeadLetterQueue: this.deadLetterQueue,
        },
      );
      this.inventory = this.organizationInventory;
    } else if (inventory)
      this.inventory = addInventorySync(
        this,
        makeFunction("inventory", { timeout: Duration.minutes(15), signs: false, memorySize: 1024 }),
        {
          inventory,
          tableArn,
          indexArns: [indexArn("gsi1"), indexArn("gsi3")],
          brokerRoleArns: [token, sweep, revoke].map((fn) => fn.role!.roleArn),
          // Secrets are read when a task serves one or the inventory names regions (CONTRACT §15).
          readsSecrets: secretGrants.read.length > 0 || (inventory.secretRegions?.length ?? 0) > 0,
          schedule: props.inventorySchedule ?? Schedule.rate(Duration.days(1)),
          deadLetterQueue: this.deadLetterQueue,
        },
      );

    // 9. Task end and findings (CONTRACT §13), only when configured: lib/constructs/broker-events.ts.
    const events = this.resolvedConfig.config.events;
    if (events)
      this.events = addBrokerEvents(
        this,
        // Outside the VPC (webhooks arrive from the internet): with a vpc, the PostgreSQL roles of the grants
        // it ends are dropped by the sweep, as for any revocation whose database was out of reach.
        makeFunction("events", { timeout: Duration.seconds(29), signs: false }),
        {
          events,
          configPath: props.configPath,
          api: this.api,
          tableArn,
          token,
          deadLetterQueue: this.deadLetterQueue,
          revocableRoleArns: revocable,
          revocationWriterArns: this.revocationWriterArns,
          databaseSecretArns: props.vpc ? [] : this.databaseSecretArns,
          tokenKey: this.tokenKey,
        },
      );
  }

  /** Stack outputs a deployer needs: the API URL, the table and the key, and the roles that target accounts trust. */
  addOutputs(): void {
    const stack = Stack.of(this);
    new CfnOutput(stack, "ApiUrl", {
      value: this.url,
      description: "credbroker API base URL (set issuerUrl to it or to your domain)",
    });
    new CfnOutput(stack, "TableName", {
      value: this.table.tableName,
      description: "CREDBROKER_TABLE for the admin CLI",
    });
    new CfnOutput(stack, "SigningKeyArn", {
      value: this.signingKey.keyArn,
      description: "KMS key that signs broker JWTs",
    });
    new CfnOutput(stack, "TokenRoleArn", {
      value: this.functions.token.role!.roleArn,
      description: "Trusted by each task role (BrokerTargetRole brokerTokenRoleArn)",
    });
    new CfnOutput(stack, "SweepRoleArn", {
      value: this.functions.sweep.role!.roleArn,
      description: "Writes credbroker-revocations (BrokerTargetRole revokerRoleArns)",
    });
    new CfnOutput(stack, "RevokeRoleArn", {
      value: this.functions.revoke.role!.roleArn,
      description: "Writes credbroker-revocations on self-release (BrokerTargetRole revokerRoleArns)",
    });
    if (this.inventory)
      new CfnOutput(stack, "InventoryRoleArn", {
        // With an organisation, the worker is the one that enters member accounts.
        value: (this.organizationInventory?.worker ?? this.inventory.function).role!.roleArn,
        description: "Trusted by each member account's BrokerInventoryRole (brokerInventoryRoleArn)",
      });
  }
}

/**
 * The IAM resources of the config's secret tasks: a complete ARN as it is, a partial one (without Secrets
 * Manager's six-character suffix) as IAM's pattern for it; those rotated after use; the customer keys by region.
 */
function secretTaskGrants(resolved: ResolvedConfig): {
  read: string[];
  rotate: string[];
  keys: Map<string, string[]>;
} {
  const tasks = resolved.config.tasks.filter((t): t is SecretTaskConfig => t.provider === "secret");
  const resource = (arn: string) => (/-[A-Za-z0-9]{6}$/.test(arn) ? arn : `${arn}-??????`);
  const keys = new Map<string, string[]>();
  for (const t of tasks)
    if (t.kmsKeyArn) {
      const region = t.kmsKeyArn.split(":")[3]!;
      keys.set(region, [...new Set([...(keys.get(region) ?? []), t.kmsKeyArn])]);
    }
  return {
    read: [...new Set(tasks.map((t) => resource(t.secretArn)))],
    rotate: [...new Set(tasks.filter((t) => t.rotateAfterUse).map((t) => resource(t.secretArn)))],
    keys,
  };
}

/** The retired roles still to write revocations on: IAM role ARNs, minus those the config names again. */
function retiredRoles(arns: readonly string[], current: readonly string[], account: string): string[] {
  for (const arn of arns) {
    if (Token.isUnresolved(arn)) continue;
    if (!ROLE_ARN_PATTERN.test(arn))
      throw new TypeError(`retiredTaskRoleArns: ${arn} is not an IAM role ARN`);
    // The broker writes a role of another account only through the writer role its task named, and a
    // removed task names none: the right granted here could never be used.
    if (!Token.isUnresolved(account) && accountOfArn(arn) !== account)
      throw new TypeError(`retiredTaskRoleArns: ${arn} is not in the broker's account ${account}`);
  }
  return [...new Set(arns)].filter((arn) => !current.includes(arn));
}

/** A GitHub App key given as a PEM file would be bundled into Lambda code: on AWS it must live in KMS. */
function refusePemKeys(resolved: ResolvedConfig, source: string): void {
  const problems = resolved.config.githubApps.flatMap((app, i) =>
    app.privateKey.file !== undefined
      ? [
          `githubApps[${i}].privateKey.file: a PEM key is for dev and tests only; import it into KMS (docs/github.md) and give kmsKeyArn`,
        ]
      : [],
  );
  if (problems.length > 0) throw new ConfigError(source, problems);
}
