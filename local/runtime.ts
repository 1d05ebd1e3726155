import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { carOrdersClients, carOrdersEnvironment, carOrdersService, SUPPLIER_SCOPE } from '../car-orders/service.js';
import type { PartnerConnection } from '../shared/contracts.js';
import { partnerAllowlistCidrs } from '../shared/allowlist.js';
import {
  tireOrdersClients,
  tireOrdersEnvironment,
  tireOrdersEvents,
  tireOrdersService,
  tireOrdersUsagePlan,
} from '../tire-orders/service.js';
import { AuditLog } from './audit.js';
import { LocalApiGateway } from './aws/api-gateway.js';
import { AtRestCipher } from './aws/at-rest.js';
import { createCognitoIdentityProviderService } from './aws/cognito-idp.js';
import { startAwsEndpoint, type AwsEndpoint } from './aws/endpoint.js';
import { deadLetterSinkFromQueue, LocalEventBridge } from './aws/eventbridge/bus.js';
import { createEventBridgeService } from './aws/eventbridge/service.js';
import { createLocalOperationsService } from './aws/local-operations.js';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './aws/protocol.js';
import { createSecretsManagerService } from './aws/secrets-manager.js';
import { createSqsService } from './aws/sqs.js';
import { createSsmService } from './aws/ssm.js';
import { ensureTables } from './aws/tables.js';
import { LocalWaf } from './aws/wafv2.js';
import { LOCAL_DEFAULTS } from './config.js';
import { ApiKeyRegistry, apiIdOf, partnerAllowlistPolicy, startApiGateway, type ApiGatewayOptions, type RunningApiGateway } from './gateway/index.js';
import { PROBLEM_GATEWAY_RESPONSES } from './gateway/problem-responses.js';
import { startAuthorizationServer, type AuthorizationServer } from './identity/authorization-server.js';
import { functionDefinitionsOf, LocalLambdaRuntime, type LambdaLogSink } from './lambda/index.js';
import { lambdaScheduleTarget, LocalScheduler } from './scheduler/index.js';
import { JsonStore } from './state/json-store.js';
import { localNames, type LocalNames } from './names.js';
import type { RuntimeDescription } from '../client/runtime-description.js';

/**
 * The local runtime: both companies on this machine, wired from the same declarations the stacks read
 * (car-orders/service.ts, tire-orders/service.ts). Each piece emulates one AWS service; this file only connects
 * them the way the two CDK stacks connect the real ones.
 */

export interface LocalRuntimeOptions {
  repoRoot?: string;
  stateDir?: string;
  /** Wipe stateDir first. */
  fresh?: boolean;
  host?: string;
  /** 0 means an ephemeral port. The authorization servers' ports are part of their issuer URLs. */
  ports?: Partial<Record<keyof typeof LOCAL_DEFAULTS.ports, number>>;
  carEgressAddress?: string;
  supplierEventsEgressAddress?: string;
  /** Real ms per emulated ms for schedules and delivery backoff: 0.05 runs rate(1 minute) every 3 s. */
  timeScale?: number;
  /** Seconds between a tire order and its fulfilment (the stack's context fulfilmentDelaySeconds). */
  fulfilmentDelaySeconds?: number;
  /** Override the usage plan's quota/throttle (tests use a small quota). */
  usagePlan?: Partial<typeof tireOrdersUsagePlan>;
  /** Override the callback delivery retry policy (tests). */
  callbackRetryPolicy?: { maximumRetryAttempts: number; maximumEventAgeSeconds: number };
  /** Seconds a new signing key is published before it signs (the JWKS cache lead). */
  keyPublishLeadSeconds?: number;
  /** Start the schedules (default true); tests may drive them with runSchedule(). */
  schedules?: boolean;
  /**
   * Override the car maker's PENDING_GRACE_SECONDS (default 30, real seconds): how old an order still awaiting its
   * tire order must be before PlacePendingTireOrders takes it over from its own request (tests use 0).
   */
  pendingGraceSeconds?: number;
  /**
   * Base URL the completion callback's API destination calls instead of the car maker's API (default the car
   * gateway's stage URL): tests put a scripted endpoint there to drive retries and the dead-letter queue.
   */
  callbackApiUrl?: string;
  logSink?: LambdaLogSink;
  log?: (line: string) => void;
}

/** What .local/runtime.json holds: everything a client (the demo, the CLI, a test) needs to talk to the runtime. */
export type { RuntimeDescription };

/** Created once per state directory, kept across restarts: the demo customer's secret is only known here. */
interface BootstrapState {
  customer?: { clientId: string; clientSecret: string };
  supplierCallbackClientId?: string;
  carMakerClientId?: string;
  tireApiKeyId?: string;
}

export interface LocalRuntime {
  description: RuntimeDescription;
  audit: AuditLog;
  carAuth: AuthorizationServer;
  tireAuth: AuthorizationServer;
  bridge: LocalEventBridge;
  apiKeys: ApiKeyRegistry;
  /** The control plane behind the AWS endpoint's WAFv2 and API Gateway operations (IP sets, resource policies). */
  controlPlane: { waf: LocalWaf; apiGateway: LocalApiGateway };
  car: { lambda: LocalLambdaRuntime; scheduler: LocalScheduler; gateway: RunningApiGateway };
  tire: {
    lambda: LocalLambdaRuntime;
    scheduler: LocalScheduler;
    gateway: RunningApiGateway;
    /** What the tire gateway was started with: a test takes the supplier down and brings it back on the same port. */
    gatewayOptions: ApiGatewayOptions;
  };
  close(): Promise<void>;
}

export const LOCAL_STAGE = 'local';

export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const repoRoot = options.repoRoot ?? resolve(import.meta.dirname, '..');
  const stateDir = resolve(repoRoot, options.stateDir ?? LOCAL_DEFAULTS.stateDir);
  if (options.fresh) rmSync(stateDir, { recursive: true, force: true });
  const host = options.host ?? LOCAL_DEFAULTS.host;
  const ports = { ...LOCAL_DEFAULTS.ports, ...options.ports };
  const carEgress = options.carEgressAddress ?? LOCAL_DEFAULTS.carEgressAddress;
  const supplierEventsEgress = options.supplierEventsEgressAddress ?? LOCAL_DEFAULTS.supplierEventsEgressAddress;
  const timeScale = options.timeScale ?? 0.05;
  const log = options.log ?? ((line: string) => console.log(line));
  const names = localNames(LOCAL_STAGE);
  const audit = new AuditLog(join(stateDir, 'audit.jsonl'));
  const closers: Array<() => Promise<void> | void> = [];
  const close = async () => {
    for (const closer of closers.reverse()) {
      try {
        await closer();
      } catch (error) {
        log(`close: ${(error as Error).message}`);
      }
    }
  };

  try {
    // AWS-protocol endpoint: DynamoDB (dynalite), SSM, Secrets Manager, SQS, EventBridge on one port.
    const bridge = new LocalEventBridge({ stateDir, audit, timeScale });
    closers.push(() => bridge.close());
    const sqs = createSqsService(stateDir);
    const endpoint: AwsEndpoint = await startAwsEndpoint({
      host,
      port: ports.aws,
      stateDir,
      services: [createSsmService(stateDir), createSecretsManagerService(stateDir), sqs, createEventBridgeService(bridge)],
    });
    closers.push(() => endpoint.close());
    const sdk = { endpoint: endpoint.url, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    const dynamodb = new DynamoDBClient(sdk);
    const ssm = new SSMClient(sdk);
    const secrets = new SecretsManagerClient(sdk);
    closers.push(() => {
      dynamodb.destroy();
      ssm.destroy();
      secrets.destroy();
    });

    await ensureTables(dynamodb, {
      [names.carOrdersTable]: carOrdersService.tables.orders,
      [names.idempotencyTable]: carOrdersService.tables.idempotency,
      [names.tireOrdersTable]: tireOrdersService.tables.tireOrders,
    });

    // One authorization server per company, like the two Cognito user pools. Client secrets are also kept sealed
    // with the state directory's at-rest key, so DescribeUserPoolClient can return them as Cognito does.
    const keyPublishLeadSeconds = options.keyPublishLeadSeconds ?? 60;
    const secretCipher = AtRestCipher.forStateDir(stateDir);
    const carAuth = await startAuthorizationServer({
      company: carOrdersService.name,
      resourceServer: { identifier: carOrdersService.name, scopes: carOrdersService.scopes },
      accessTokenValidityMinutes: carOrdersService.accessTokenValidityMinutes,
      host,
      port: ports.carAuth,
      stateDir,
      audit,
      keyPublishLeadSeconds,
      secretCipher,
    });
    closers.push(() => carAuth.close());
    const tireAuth = await startAuthorizationServer({
      company: tireOrdersService.name,
      resourceServer: { identifier: tireOrdersService.name, scopes: tireOrdersService.scopes },
      accessTokenValidityMinutes: tireOrdersService.accessTokenValidityMinutes,
      host,
      port: ports.tireAuth,
      stateDir,
      audit,
      keyPublishLeadSeconds,
      secretCipher,
    });
    closers.push(() => tireAuth.close());

    // First boot: the app clients and the API key the stacks create, their secrets in Secrets Manager.
    const bootstrap = new JsonStore<BootstrapState>(join(stateDir, 'bootstrap.json'), () => ({}));
    const apiKeys = new ApiKeyRegistry(join(stateDir, 'api-keys.json'));
    await bootstrapClients({ bootstrap, carAuth, tireAuth, apiKeys, secrets, names });
    const state = bootstrap.get();
    const customer = state.customer!;

    // The two gateways. The supplier's allowlist is derived from the car maker's egress, as in the stacks.
    const supplierAllowlist = partnerAllowlistCidrs([carEgress], []);
    // The control plane behind them (names as the stacks give them): the WAF IP set and the tire API's resource
    // policy start from that allowlist and persist the operators' changes (partners onboarded with the CLI).
    const carApiName = `${LOCAL_STAGE}-${carOrdersService.name}`;
    const tireApiName = `${LOCAL_STAGE}-${tireOrdersService.name}`;
    const partnerIpSetName = `${LOCAL_STAGE}-${tireOrdersService.name}-partners`;
    const tireApiId = apiIdOf(tireOrdersService.name);
    const usagePlan = { id: names.usagePlan, ...tireOrdersUsagePlan, ...options.usagePlan };
    const waf = new LocalWaf(stateDir, {
      ipSets: [{ name: partnerIpSetName, description: 'Partner source addresses allowed to call the API', base: supplierAllowlist }],
      webAcls: [
        { name: carApiName, defaultAction: 'allow', rateLimitPer5Minutes: carOrdersService.wafRateLimitPer5Minutes },
        {
          name: tireApiName,
          defaultAction: 'block',
          rateLimitPer5Minutes: tireOrdersService.wafRateLimitPer5Minutes,
          ipSetName: partnerIpSetName,
        },
      ],
    });
    const apiGateway = new LocalApiGateway(stateDir, {
      restApis: [
        {
          apiId: apiIdOf(carOrdersService.name),
          name: carApiName,
          description: 'Car orders API (customers; supplier completion callbacks)',
          stage: LOCAL_STAGE,
          stageThrottle: carOrdersService.stageThrottle,
          webAclArn: waf.webAclArn(carApiName),
        },
        {
          apiId: tireApiId,
          name: tireApiName,
          description: 'Tire orders partner API',
          stage: LOCAL_STAGE,
          stageThrottle: tireOrdersService.stageThrottle,
          webAclArn: waf.webAclArn(tireApiName),
          policy: { document: partnerAllowlistPolicy(supplierAllowlist), baseCidrs: supplierAllowlist },
        },
      ],
      usagePlans: [
        {
          id: usagePlan.id,
          name: names.usagePlan,
          description: 'Throttle and quota of every partner API key',
          apiStages: [{ apiId: tireApiId, stage: LOCAL_STAGE }],
          throttle: usagePlan.throttle,
          quota: usagePlan.quota,
        },
      ],
      apiKeys,
    });
    const carLambda = new LocalLambdaRuntime({
      company: carOrdersService.name,
      repoRoot,
      buildDir: join(stateDir, 'build', carOrdersService.name),
      audit,
      functions: functionDefinitionsOf(
        carOrdersService.functions,
        {
          ...carOrdersEnvironment({
            ordersTableName: names.carOrdersTable,
            idempotencyTableName: names.idempotencyTable,
            supplierConnectionParameter: names.supplierConnectionParameter,
            supplierTokenParameter: names.supplierTokenParameter,
            supplierTokenKeyId: names.supplierTokenKeyAlias,
          }),
          ...(options.pendingGraceSeconds !== undefined ? { PENDING_GRACE_SECONDS: String(options.pendingGraceSeconds) } : {}),
          ...lambdaAwsEnvironment(endpoint.url),
        },
        { egressAddress: carEgress },
      ),
      ...(options.logSink ? { logSink: options.logSink } : {}),
    });
    closers.push(() => carLambda.close());
    const tireLambda = new LocalLambdaRuntime({
      company: tireOrdersService.name,
      repoRoot,
      buildDir: join(stateDir, 'build', tireOrdersService.name),
      audit,
      functions: functionDefinitionsOf(tireOrdersService.functions, {
        ...tireOrdersEnvironment({
          tireOrdersTableName: names.tireOrdersTable,
          eventBusName: names.eventBus,
          fulfilmentDelaySeconds: options.fulfilmentDelaySeconds ?? 5,
        }),
        ...lambdaAwsEnvironment(endpoint.url),
      }),
      ...(options.logSink ? { logSink: options.logSink } : {}),
    });
    closers.push(() => tireLambda.close());
    await Promise.all([carLambda.build(), tireLambda.build()]);

    const invokeWith =
      (lambda: LocalLambdaRuntime) =>
      async (functionName: string, event: unknown) => {
        const result = await lambda.invoke(functionName, event);
        return result.outcome === 'ok' ? (result.payload as never) : result.error;
      };

    const carGateway = await startApiGateway({
      company: carOrdersService.name,
      service: carOrdersService,
      stage: LOCAL_STAGE,
      host,
      port: ports.carApi,
      // The car maker's web ACL allows by default (customers call from anywhere); rate rule still applies.
      waf: { defaultAction: 'allow', allowCidrs: [] },
      authorizer: { issuer: carAuth.issuer, jwksUri: carAuth.jwksUri },
      invoke: invokeWith(carLambda),
      audit,
      gatewayResponses: PROBLEM_GATEWAY_RESPONSES,
    });
    closers.push(() => carGateway.close());
    const tireGatewayOptions: ApiGatewayOptions = {
      company: tireOrdersService.name,
      service: tireOrdersService,
      stage: LOCAL_STAGE,
      host,
      port: ports.tireApi,
      apiId: tireApiId,
      // Both read at every request: UpdateIPSet and UpdateRestApi + CreateDeployment change them at run time.
      waf: { defaultAction: 'block', allowCidrs: waf.matcher(partnerIpSetName) },
      resourcePolicy: { deployedPolicy: () => apiGateway.deployedPolicy(tireApiId) },
      authorizer: { issuer: tireAuth.issuer, jwksUri: tireAuth.jwksUri },
      usagePlan,
      apiKeys,
      invoke: invokeWith(tireLambda),
      audit,
      gatewayResponses: PROBLEM_GATEWAY_RESPONSES,
    };
    const tireGateway = await startApiGateway(tireGatewayOptions);
    closers.push(() => tireGateway.close());

    // The control-plane operations the operator CLI calls with the real SDK clients, on the same AWS endpoint.
    endpoint.addService(
      createCognitoIdentityProviderService(
        [
          { server: carAuth, service: carOrdersService },
          { server: tireAuth, service: tireOrdersService },
        ].map(({ server, service }) => ({
          name: `${LOCAL_STAGE}-${service.name}`,
          server,
          resourceServer: { identifier: service.name, name: service.name, scopes: service.scopes },
          domain: `${LOCAL_STAGE}-${service.name}-${LOCAL_ACCOUNT_ID}`,
        })),
      ),
    );
    endpoint.addService(waf.service());
    endpoint.addService(apiGateway.service());
    // Operator actions without an AWS API (signing-key rotation, reading an archive), for the CLI.
    endpoint.addService(createLocalOperationsService({ userPools: [carAuth, tireAuth], bridge }));

    // What the supplier's stack writes for the car maker: where its API is and which secrets to read.
    const connection: PartnerConnection = {
      apiUrl: tireGateway.url,
      tokenUrl: tireAuth.tokenUrl,
      clientId: state.carMakerClientId!,
      clientSecretId: names.carMakerClientSecret,
      apiKeySecretId: names.tireApiKeySecret,
      scope: SUPPLIER_SCOPE,
    };
    await ssm.send(
      new PutParameterCommand({
        Name: names.supplierConnectionParameter,
        Type: 'String',
        Value: JSON.stringify(connection),
        Overwrite: true,
      }),
    );

    // The supplier's bus, archive, and the rule that calls the car maker back through an API destination.
    const callback = tireOrdersEvents.completionCallback;
    bridge.createEventBus(names.eventBus);
    bridge.createArchive({
      name: names.archive,
      eventBusName: names.eventBus,
      eventPattern: tireOrdersEvents.archive.eventPattern,
      retentionDays: tireOrdersEvents.archive.defaultRetentionDays,
    });
    const dlq = sqs.ensureQueue(names.callbackDlq);
    const callbackSecret = await secretString(secrets, names.supplierCallbackClientSecret);
    bridge.putRule({
      name: names.callbackRule,
      eventBusName: names.eventBus,
      // Only the completions of the car maker's own tire orders (placed with its bootstrapped supplier client).
      eventPattern: callback.eventPattern(state.carMakerClientId!),
      targets: [
        {
          kind: 'apiDestination',
          id: 'CarMakerCallback',
          name: names.apiDestination,
          endpoint: `${options.callbackApiUrl ?? carGateway.url}/${callback.pathTemplate}`,
          httpMethod: callback.httpMethod,
          pathParameterValues: callback.pathParameterValues,
          headerParameters: callback.headerParameters,
          inputPath: callback.inputPath,
          invocationRateLimitPerSecond: callback.invocationRateLimitPerSecond,
          retryPolicy: options.callbackRetryPolicy ?? callback.retryPolicy,
          connection: {
            authorizationEndpoint: carAuth.tokenUrl,
            httpMethod: 'POST',
            clientId: state.supplierCallbackClientId!,
            clientSecret: callbackSecret,
            bodyParameters: { grant_type: 'client_credentials', scope: callback.scope },
          },
          deadLetter: deadLetterSinkFromQueue(dlq),
          localAddress: supplierEventsEgress,
        },
      ],
    });

    // Schedules: the same rate()/cron() expressions, sped up by timeScale.
    const carScheduler = new LocalScheduler({
      company: carOrdersService.name,
      schedules: carOrdersService.schedules,
      target: lambdaScheduleTarget(carLambda),
      timeScale,
      audit,
      log,
    });
    closers.push(() => carScheduler.close());
    const tireScheduler = new LocalScheduler({
      company: tireOrdersService.name,
      schedules: tireOrdersService.schedules,
      target: lambdaScheduleTarget(tireLambda),
      timeScale,
      audit,
      log,
    });
    closers.push(() => tireScheduler.close());
    if (options.schedules ?? true) {
      carScheduler.start();
      tireScheduler.start();
    }

    const description: RuntimeDescription = {
      stage: LOCAL_STAGE,
      stateDir,
      awsEndpoint: endpoint.url,
      region: LOCAL_REGION,
      carApiUrl: carGateway.url,
      tireApiUrl: tireGateway.url,
      carTokenUrl: carAuth.tokenUrl,
      tireTokenUrl: tireAuth.tokenUrl,
      carIssuer: carAuth.issuer,
      tireIssuer: tireAuth.issuer,
      customer,
      tireApiKey: apiKeys.revealValue(state.tireApiKeyId!),
      egress: { carMaker: carEgress, supplierEvents: supplierEventsEgress },
      supplierAllowlist,
      names,
      pid: process.pid,
      startedAt: new Date().toISOString(),
    };
    const runtimeFile = join(stateDir, 'runtime.json');
    writeFileSync(runtimeFile, JSON.stringify(description, null, 2), { mode: 0o600 });
    closers.unshift(() => rmSync(runtimeFile, { force: true }));

    return {
      description,
      audit,
      carAuth,
      tireAuth,
      bridge,
      apiKeys,
      controlPlane: { waf, apiGateway },
      car: { lambda: carLambda, scheduler: carScheduler, gateway: carGateway },
      tire: { lambda: tireLambda, scheduler: tireScheduler, gateway: tireGateway, gatewayOptions: tireGatewayOptions },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Dummy credentials: the local endpoint does not check signatures, but the SDK insists on signing. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** The only difference between a function's AWS and local environment: where the SDK sends its calls. */
function lambdaAwsEnvironment(endpointUrl: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpointUrl,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ACCOUNT_ID: LOCAL_ACCOUNT_ID,
    // The functions run on Node 24 in Lambda; only the local workers run on this machine's Node 20.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

async function secretString(client: SecretsManagerClient, secretId: string): Promise<string> {
  const result = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (result.SecretString === undefined) throw new Error(`Secret ${secretId} has no SecretString`);
  return result.SecretString;
}

async function bootstrapClients(input: {
  bootstrap: JsonStore<BootstrapState>;
  carAuth: AuthorizationServer;
  tireAuth: AuthorizationServer;
  apiKeys: ApiKeyRegistry;
  secrets: SecretsManagerClient;
  names: LocalNames;
}): Promise<void> {
  const { bootstrap, carAuth, tireAuth, apiKeys, secrets, names } = input;
  const state = bootstrap.get();
  if (!state.customer) {
    const created = await carAuth.createClient({ name: 'demo-customer', scopes: [...carOrdersClients.customer.scopes] });
    bootstrap.update((s) => {
      s.customer = { clientId: created.clientId, clientSecret: created.clientSecret };
    });
  }
  if (!state.supplierCallbackClientId) {
    const created = await carAuth.createClient({
      name: 'supplier-callback',
      scopes: [...carOrdersClients.supplierCallback.scopes],
    });
    await secrets.send(new CreateSecretCommand({ Name: names.supplierCallbackClientSecret, SecretString: created.clientSecret }));
    bootstrap.update((s) => {
      s.supplierCallbackClientId = created.clientId;
    });
  }
  if (!state.carMakerClientId) {
    const created = await tireAuth.createClient({ name: 'car-maker', scopes: [...tireOrdersClients.carMaker.scopes] });
    await secrets.send(new CreateSecretCommand({ Name: names.carMakerClientSecret, SecretString: created.clientSecret }));
    bootstrap.update((s) => {
      s.carMakerClientId = created.clientId;
    });
  }
  if (!state.tireApiKeyId) {
    const key = apiKeys.create({ name: 'car-maker', usagePlanId: names.usagePlan });
    await secrets.send(new CreateSecretCommand({ Name: names.tireApiKeySecret, SecretString: key.value }));
    bootstrap.update((s) => {
      s.tireApiKeyId = key.id;
    });
  }
}
