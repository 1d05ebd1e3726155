import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { carOrdersEnvironment, carOrdersService } from '../car-orders/service.js';
import { partnerAllowlistCidrs } from '../shared/allowlist.js';
import { dynamoDbClient } from '../shared/aws/dynamodb-client.js';
import type { CapacityDeclaration } from '../shared/capacity.js';
import type { UsagePlanDeclaration } from '../shared/declarations.js';
import { tireOrdersEnvironment, tireOrdersService } from '../tire-orders/service.js';
import { LocalAlarms } from './alarms.js';
import { AuditLog } from './audit.js';
import { LocalApiGateway } from './aws/api-gateway.js';
import { AtRestCipher } from './aws/at-rest.js';
import { createCognitoIdentityProviderService } from './aws/cognito-idp.js';
import { stateDirCredentials, type AwsCredentials } from './aws/credentials.js';
import { startAwsEndpoint, type AwsEndpoint } from './aws/endpoint.js';
import { LocalEventBridge } from './aws/eventbridge/bus.js';
import { createEventBridgeService } from './aws/eventbridge/service.js';
import { createLocalOperationsService } from './aws/local-operations.js';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './aws/protocol.js';
import { createSecretsManagerService } from './aws/secrets-manager.js';
import { createSqsService } from './aws/sqs.js';
import { createSsmService } from './aws/ssm.js';
import { ensureTables } from './aws/tables.js';
import { LocalWaf } from './aws/wafv2.js';
import { bootstrapClients } from './bootstrap.js';
import { servicesAt } from './capacity.js';
import {
  companyControlPlane,
  startCompany,
  type CompanyControlPlane,
  type CompanyService,
  type RunningCompany,
} from './company.js';
import { LOCAL_DEFAULTS } from './config.js';
import { ApiKeyRegistry } from './gateway/index.js';
import type { ListenerLimits } from './http/guard.js';
import { startAuthorizationServer, type AuthorizationServer } from './identity/authorization-server.js';
import type { LambdaLogSink, LocalLambdaRuntime } from './lambda/index.js';
import { localNames, type LocalNames } from './names.js';
import { writeCarMakerPartnerRecord, writeConnectionForCarMaker, wireCompletionCallback } from './partner-wiring.js';
import { PRIVATE_FILE_MODE, restrictUmask, tightenStateDir } from './state/file-modes.js';
import { LocalLocator } from '../client/local-locator.js';
import type { RuntimeDescription } from '../client/runtime-description.js';
import { startConsole } from '../console/server.js';

/**
 * The local runtime: both companies on this machine, read from the same declarations the stacks read
 * (car-orders/service.ts, tire-orders/service.ts) and named by the same module (shared/names.ts). This file wires
 * the shared pieces (the AWS endpoint, the authorization servers, the WAFv2/API Gateway control plane), starts each
 * company with startCompany (local/company.ts) and links them as the stacks do (local/partner-wiring.ts).
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
  /**
   * Derive every limit (stage throttles, WAF rate rules, usage plan, callback rate) from this capacity declaration
   * instead of the declarations' default (shared/capacity.ts): the load-test profile. Other enforcement is unchanged.
   */
  capacity?: CapacityDeclaration;
  /** Override the usage plan's quota/throttle (tests use a small quota). */
  usagePlan?: Partial<UsagePlanDeclaration>;
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
  /**
   * Called if the DynamoDB store process exits while the runtime runs (crash, killed). By default the runtime logs
   * it; `npm start` stops the runtime and exits 1 (local/main.ts), since no order can be taken without the store.
   */
  onStoreExit?: (reason: string) => void;
  /** Header/request timeouts and connection cap of every listener (local/http/guard.ts LISTENER_LIMITS by default). */
  listenerLimits?: Partial<ListenerLimits>;
  /** The operator console's port (console/server.ts); 0, the default, means an ephemeral port. */
  consolePort?: number;
  /** Execution environments per function (default B2B_LAMBDA_MAX_ENVIRONMENTS, else the cores: local/lambda/pool.ts). */
  lambdaMaxEnvironments?: number;
}

/** What .local/runtime.json holds: everything a client (the demo, the CLI, a test) needs to talk to the runtime. */
export type { RuntimeDescription };

export interface LocalRuntime {
  description: RuntimeDescription;
  audit: AuditLog;
  carAuth: AuthorizationServer;
  tireAuth: AuthorizationServer;
  bridge: LocalEventBridge;
  apiKeys: ApiKeyRegistry;
  /** The control plane behind the AWS endpoint's WAFv2 and API Gateway operations (IP sets, resource policies). */
  controlPlane: { waf: LocalWaf; apiGateway: LocalApiGateway };
  /** Each company's functions, scheduler and gateway (and what the gateway was started with). */
  car: RunningCompany;
  tire: RunningCompany;
  /** The DynamoDB store process's own listener (guarded and signed): runtime.json's dynamodbEndpoint. */
  storeUrl: string;
  close(): Promise<void>;
}

export const LOCAL_STAGE = 'local';

interface Settings {
  repoRoot: string;
  stateDir: string;
  host: string;
  ports: Record<keyof typeof LOCAL_DEFAULTS.ports, number>;
  carEgress: string;
  supplierEventsEgress: string;
  timeScale: number;
  log: (line: string) => void;
  names: LocalNames;
  listenerLimits?: Partial<ListenerLimits>;
  consolePort: number;
  onStoreExit: (reason: string) => void;
}

function settingsOf(options: LocalRuntimeOptions): Settings {
  const repoRoot = options.repoRoot ?? resolve(import.meta.dirname, '..');
  return {
    repoRoot,
    stateDir: resolve(repoRoot, options.stateDir ?? LOCAL_DEFAULTS.stateDir),
    host: options.host ?? LOCAL_DEFAULTS.host,
    ports: { ...LOCAL_DEFAULTS.ports, ...options.ports },
    carEgress: options.carEgressAddress ?? LOCAL_DEFAULTS.carEgressAddress,
    supplierEventsEgress: options.supplierEventsEgressAddress ?? LOCAL_DEFAULTS.supplierEventsEgressAddress,
    timeScale: options.timeScale ?? 0.05,
    log: options.log ?? ((line: string) => console.log(line)),
    names: localNames(LOCAL_STAGE),
    consolePort: options.consolePort ?? 0,
    onStoreExit:
      options.onStoreExit ??
      ((reason) => (options.log ?? console.log)(`dynamodb-store: the store process ${reason}; DynamoDB calls fail`)),
    ...(options.listenerLimits ? { listenerLimits: options.listenerLimits } : {}),
  };
}

/** Every function pre-warmed (before the ready line, like provisioned concurrency), then the schedules start. */
async function companiesReady(companies: RunningCompany[], options: LocalRuntimeOptions): Promise<void> {
  await Promise.all(companies.map((company) => company.warm));
  if (options.schedules ?? true) for (const company of companies) company.scheduler.start();
}

/** Closes what was started, last first; a failing closer is logged and the others still run. */
class Closers {
  private readonly closers: Array<() => Promise<void> | void> = [];
  constructor(private readonly log: (line: string) => void) {}
  add = (closer: () => Promise<void> | void): void => {
    this.closers.push(closer);
  };
  first(closer: () => Promise<void> | void): void {
    this.closers.unshift(closer);
  }
  close = async (): Promise<void> => {
    for (const closer of this.closers.splice(0).reverse()) {
      try {
        await closer();
      } catch (error) {
        this.log(`close: ${(error as Error).message}`);
      }
    }
  };
}

export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const settings = settingsOf(options);
  if (options.fresh) rmSync(settings.stateDir, { recursive: true, force: true });
  // Private from here on: what the runtime and its libraries create, and what an older version left.
  restrictUmask();
  tightenStateDir(settings.stateDir);
  const closers = new Closers(settings.log);
  try {
    return await assemble(settings, options, closers);
  } catch (error) {
    await closers.close();
    throw error;
  }
}

/** Both companies' declarations at the runtime's capacity, and their control planes. */
function companyPlanes(settings: Settings, options: LocalRuntimeOptions) {
  // The supplier's allowlist is derived from the car maker's egress, as in the stacks.
  const supplierAllowlist = partnerAllowlistCidrs([settings.carEgress], []);
  const planeInputs = { stage: LOCAL_STAGE, names: settings.names, partnerAllowlist: supplierAllowlist };
  const services = servicesAt(options.capacity);
  const planes = {
    car: companyControlPlane(services.car, planeInputs),
    tire: companyControlPlane(services.tire, {
      ...planeInputs,
      ...(options.usagePlan ? { usagePlanOverride: options.usagePlan } : {}),
    }),
  };
  return { supplierAllowlist, services, planes };
}

/** Both companies' declared tables, under their local names. */
function ensureDeclaredTables(dynamodb: Parameters<typeof ensureTables>[0], names: LocalNames) {
  return ensureTables(dynamodb, {
    [names.carOrdersTable]: carOrdersService.tables.orders,
    [names.idempotencyTable]: carOrdersService.tables.idempotency,
    [names.tireOrdersTable]: tireOrdersService.tables.tireOrders,
  });
}

/** The shared pieces (AWS endpoint, authorization servers, control plane), then the two companies, then their links. */
async function assemble(settings: Settings, options: LocalRuntimeOptions, closers: Closers): Promise<LocalRuntime> {
  const { stateDir, names } = settings;
  const audit = new AuditLog(join(stateDir, 'audit.jsonl'));
  closers.add(() => audit.close());
  const credentials = stateDirCredentials(stateDir);
  const aws = await startAwsServices(settings, { audit, credentials }, closers);
  await ensureDeclaredTables(aws.dynamodb, names);
  const auth = await startAuthorizationServers(settings, options, audit, closers);
  const apiKeys = new ApiKeyRegistry(join(stateDir, 'api-keys.json'));
  const state = await bootstrapClients({ stateDir, ...auth, apiKeys, secrets: aws.secrets, names });

  const { supplierAllowlist, services, planes } = companyPlanes(settings, options);
  const controlPlane = localControlPlane(stateDir, Object.values(planes), apiKeys);
  const shared = {
    stage: LOCAL_STAGE,
    repoRoot: settings.repoRoot,
    stateDir,
    host: settings.host,
    audit,
    controlPlane,
    apiKeys,
    timeScale: settings.timeScale,
    log: settings.log,
    onClose: closers.add,
    ...(options.logSink ? { logSink: options.logSink } : {}),
    ...(settings.listenerLimits ? { listenerLimits: settings.listenerLimits } : {}),
    ...(options.lambdaMaxEnvironments !== undefined ? { lambdaMaxEnvironments: options.lambdaMaxEnvironments } : {}),
  };
  // Side by side (the bundles build in parallel); both settle before a failure is thrown, so close() finds both.
  const [car, tire] = await allSettledOrThrow([
    startCompany(services.car, {
      ...shared,
      port: settings.ports.carApi,
      auth: auth.carAuth,
      plane: planes.car,
      environment: { ...localCarEnvironment(names, options), ...lambdaAwsEnvironment(aws.endpoint, credentials) },
      egressAddress: settings.carEgress,
    }),
    startCompany(services.tire, {
      ...shared,
      port: settings.ports.tireApi,
      auth: auth.tireAuth,
      plane: planes.tire,
      environment: { ...localTireEnvironment(names, options), ...lambdaAwsEnvironment(aws.endpoint, credentials) },
    }),
  ]);
  const alarms = startAlarms(settings, audit, aws.sqs, closers);
  addControlPlaneServices(aws.endpoint, auth, controlPlane, aws.bridge, alarms, [car.lambda, tire.lambda]);

  const callbackRate = services.callbackRatePerSecond;
  await linkCompanies({ aws, names, state, auth, car, tire, settings, options, callbackRate });
  await companiesReady([car, tire], options);

  const described = describeRuntime(settings, {
    awsEndpoint: aws.endpoint.url,
    dynamodbEndpoint: aws.endpoint.storeUrl,
    car,
    tire,
    ...auth,
    customer: state.customer,
    tireApiKey: apiKeys.revealValue(state.tireApiKeyId),
    awsCredentials: credentials,
    supplierAllowlist,
  });
  const description = { ...described, consoleUrl: await startRuntimeConsole(settings, audit, described, closers) };
  writeRuntimeFile(stateDir, description, closers);
  return {
    description,
    audit,
    ...auth,
    bridge: aws.bridge,
    apiKeys,
    controlPlane,
    car,
    tire,
    storeUrl: aws.endpoint.storeUrl,
    close: closers.close,
  };
}

/** The operator console on this runtime, reading it through the same locator the CLI uses (client/local-locator.ts). */
async function startRuntimeConsole(
  settings: Settings,
  audit: AuditLog,
  description: Omit<RuntimeDescription, 'consoleUrl'>,
  closers: Closers,
): Promise<string> {
  const locator = new LocalLocator(settings.stateDir, { ...description, consoleUrl: '' });
  closers.add(() => locator.close());
  const running = await startConsole({
    locator,
    host: settings.host,
    port: settings.consolePort,
    audit,
    ...(settings.listenerLimits ? { limits: settings.listenerLimits } : {}),
  });
  closers.add(() => running.close());
  return running.url;
}

/**
 * The declared alarms, evaluated every emulated minute (the shortest declared period) and on every DescribeAlarms;
 * each change of state goes to the audit trail, which `npm start` prints.
 */
function startAlarms(
  settings: Settings,
  audit: AuditLog,
  sqs: Awaited<ReturnType<typeof startAwsServices>>['sqs'],
  closers: Closers,
): LocalAlarms {
  const dlq = sqs.ensureQueue(settings.names.callbackDlq);
  const alarms = new LocalAlarms({
    audit,
    deadLetterQueueDepth: () => dlq.counts().visible,
    callbackRule: settings.names.callbackRule,
    stage: LOCAL_STAGE,
    timeScale: settings.timeScale,
  });
  alarms.start(60_000 * settings.timeScale);
  closers.add(() => alarms.stop());
  return alarms;
}

/** As the stacks link them: the supplier writes where its API is for the car maker, and calls the car maker back. */
async function linkCompanies(input: {
  aws: Awaited<ReturnType<typeof startAwsServices>>;
  names: LocalNames;
  state: Awaited<ReturnType<typeof bootstrapClients>>;
  auth: Awaited<ReturnType<typeof startAuthorizationServers>>;
  car: RunningCompany;
  tire: RunningCompany;
  settings: Settings;
  options: LocalRuntimeOptions;
  callbackRate: number;
}): Promise<void> {
  const { aws, names, state, auth, car, tire, settings, options } = input;
  await writeConnectionForCarMaker(aws.ssm, names, {
    apiUrl: tire.gateway.url,
    tokenUrl: auth.tireAuth.tokenUrl,
    clientId: state.carMakerClientId,
  });
  await writeCarMakerPartnerRecord(aws.ssm, names, {
    clientId: state.carMakerClientId,
    apiKeyId: state.tireApiKeyId,
    egressAddress: settings.carEgress,
  });
  await wireCompletionCallback({
    ...aws,
    names,
    orderingClientId: state.carMakerClientId,
    carApiUrl: options.callbackApiUrl ?? car.gateway.url,
    carTokenUrl: auth.carAuth.tokenUrl,
    callbackClientId: state.supplierCallbackClientId,
    egressAddress: settings.supplierEventsEgress,
    invocationRateLimitPerSecond: input.callbackRate,
    ...(options.callbackRetryPolicy ? { retryPolicy: options.callbackRetryPolicy } : {}),
  });
}

/** .local/runtime.json (0600: it holds the demo customer's secret and the AWS access key), removed again on close. */
function writeRuntimeFile(stateDir: string, description: RuntimeDescription, closers: Closers): void {
  const runtimeFile = join(stateDir, 'runtime.json');
  // A file left by a crashed run keeps its mode on overwrite: remove it first so the new one is created 0600.
  rmSync(runtimeFile, { force: true });
  writeFileSync(runtimeFile, JSON.stringify(description, null, 2), { mode: PRIVATE_FILE_MODE });
  closers.first(() => rmSync(runtimeFile, { force: true }));
}

async function allSettledOrThrow<T>(promises: [Promise<T>, Promise<T>]): Promise<[T, T]> {
  const [first, second] = await Promise.allSettled(promises);
  if (first.status === 'rejected') throw first.reason;
  if (second.status === 'rejected') throw second.reason;
  return [first.value, second.value];
}

/** AWS-protocol endpoint: DynamoDB (dynalite), SSM, Secrets Manager, SQS, EventBridge on one port, and SDK clients. */
async function startAwsServices(
  settings: Settings,
  { audit, credentials }: { audit: AuditLog; credentials: AwsCredentials },
  closers: Closers,
) {
  const { stateDir } = settings;
  const bridge = new LocalEventBridge({ stateDir, audit, timeScale: settings.timeScale });
  closers.add(() => bridge.close());
  const sqs = createSqsService(stateDir);
  const endpoint: AwsEndpoint = await startAwsEndpoint({
    host: settings.host,
    port: settings.ports.aws,
    stateDir,
    credentials,
    audit,
    onStoreExit: settings.onStoreExit,
    ...(settings.listenerLimits ? { limits: settings.listenerLimits } : {}),
    services: [
      createSsmService(stateDir),
      createSecretsManagerService(stateDir),
      sqs,
      createEventBridgeService(bridge),
    ],
  });
  closers.add(() => endpoint.close());
  const sdk = { endpoint: endpoint.url, region: LOCAL_REGION, credentials };
  const clients = {
    dynamodb: dynamoDbClient({ ...sdk, endpoint: endpoint.storeUrl }),
    ssm: new SSMClient(sdk),
    secrets: new SecretsManagerClient(sdk),
  };
  closers.add(() => Object.values(clients).forEach((client) => client.destroy()));
  return { bridge, sqs, endpoint, ...clients };
}

/**
 * One authorization server per company, like the two Cognito user pools, from each declaration's resource server
 * and token lifetime. Client secrets are also kept sealed with the state directory's at-rest key, so
 * DescribeUserPoolClient can return them as Cognito does.
 */
async function startAuthorizationServers(
  settings: Settings,
  options: LocalRuntimeOptions,
  audit: AuditLog,
  closers: Closers,
) {
  const secretCipher = AtRestCipher.forStateDir(settings.stateDir);
  const start = async (service: CompanyService, port: number) => {
    const server = await startAuthorizationServer({
      company: service.name,
      resourceServer: { identifier: service.name, scopes: service.scopes },
      accessTokenValidityMinutes: service.accessTokenValidityMinutes,
      host: settings.host,
      port,
      stateDir: settings.stateDir,
      audit,
      keyPublishLeadSeconds: options.keyPublishLeadSeconds ?? 60,
      secretCipher,
      ...(settings.listenerLimits ? { listenerLimits: settings.listenerLimits } : {}),
    });
    closers.add(() => server.close());
    return server;
  };
  const carAuth = await start(carOrdersService, settings.ports.carAuth);
  const tireAuth = await start(tireOrdersService, settings.ports.tireAuth);
  return { carAuth, tireAuth };
}

/** The emulated WAFv2 and API Gateway control plane: the companies' web ACLs, IP sets, REST APIs and usage plans. */
function localControlPlane(stateDir: string, planes: CompanyControlPlane[], apiKeys: ApiKeyRegistry) {
  const waf = new LocalWaf(stateDir, {
    ipSets: planes.flatMap((plane) => (plane.ipSet ? [plane.ipSet] : [])),
    webAcls: planes.map((plane) => plane.webAcl),
  });
  const apiGateway = new LocalApiGateway(stateDir, {
    restApis: planes.map((plane) => ({ ...plane.restApi, webAclArn: waf.webAclArn(plane.webAcl.name) })),
    usagePlans: planes.flatMap((plane) => (plane.usagePlan ? [plane.usagePlan] : [])),
    apiKeys,
  });
  return { waf, apiGateway };
}

/** The control-plane operations the operator CLI calls with the real SDK clients, on the same AWS endpoint. */
function addControlPlaneServices(
  endpoint: AwsEndpoint,
  auth: { carAuth: AuthorizationServer; tireAuth: AuthorizationServer },
  controlPlane: { waf: LocalWaf; apiGateway: LocalApiGateway },
  bridge: LocalEventBridge,
  alarms: LocalAlarms,
  lambdas: readonly LocalLambdaRuntime[],
): void {
  const pools = [
    { server: auth.carAuth, service: carOrdersService as CompanyService },
    { server: auth.tireAuth, service: tireOrdersService as CompanyService },
  ];
  endpoint.addService(
    createCognitoIdentityProviderService(
      pools.map(({ server, service }) => ({
        name: `${LOCAL_STAGE}-${service.name}`,
        server,
        resourceServer: { identifier: service.name, name: service.name, scopes: service.scopes },
        domain: `${LOCAL_STAGE}-${service.name}-${LOCAL_ACCOUNT_ID}`,
      })),
    ),
  );
  endpoint.addService(controlPlane.waf.service());
  endpoint.addService(controlPlane.apiGateway.service());
  // Operator actions without an AWS API (signing-key rotation, reading an archive), for the CLI.
  endpoint.addService(
    createLocalOperationsService({ userPools: [auth.carAuth, auth.tireAuth], bridge, alarms, lambdas }),
  );
}

/** The car maker's functions' environment, bound to the local names (the stack binds CDK tokens). */
function localCarEnvironment(names: LocalNames, options: LocalRuntimeOptions): Record<string, string> {
  return {
    ...carOrdersEnvironment({
      ordersTableName: names.carOrdersTable,
      idempotencyTableName: names.idempotencyTable,
      supplierConnectionParameter: names.supplierConnectionParameter,
      supplierTokenParameter: names.supplierTokenParameter,
      supplierTokenKeyId: names.supplierTokenKeyAlias,
    }),
    ...(options.pendingGraceSeconds !== undefined
      ? { PENDING_GRACE_SECONDS: String(options.pendingGraceSeconds) }
      : {}),
  };
}

function localTireEnvironment(names: LocalNames, options: LocalRuntimeOptions): Record<string, string> {
  return tireOrdersEnvironment({
    tireOrdersTableName: names.tireOrdersTable,
    eventBusName: names.eventBus,
    fulfilmentDelaySeconds: options.fulfilmentDelaySeconds ?? 5,
    partnerRecordPath: names.partnerRecordPath,
  });
}

function describeRuntime(
  settings: Settings,
  running: {
    awsEndpoint: string;
    dynamodbEndpoint: string;
    car: RunningCompany;
    tire: RunningCompany;
    carAuth: AuthorizationServer;
    tireAuth: AuthorizationServer;
    customer: { clientId: string; clientSecret: string };
    tireApiKey: string;
    awsCredentials: AwsCredentials;
    supplierAllowlist: string[];
  },
): Omit<RuntimeDescription, 'consoleUrl'> {
  return {
    stage: LOCAL_STAGE,
    stateDir: settings.stateDir,
    awsEndpoint: running.awsEndpoint,
    dynamodbEndpoint: running.dynamodbEndpoint,
    region: LOCAL_REGION,
    carApiUrl: running.car.gateway.url,
    tireApiUrl: running.tire.gateway.url,
    carTokenUrl: running.carAuth.tokenUrl,
    tireTokenUrl: running.tireAuth.tokenUrl,
    carIssuer: running.carAuth.issuer,
    tireIssuer: running.tireAuth.issuer,
    customer: running.customer,
    tireApiKey: running.tireApiKey,
    awsCredentials: running.awsCredentials,
    egress: { carMaker: settings.carEgress, supplierEvents: settings.supplierEventsEgress },
    supplierAllowlist: running.supplierAllowlist,
    names: settings.names,
    pid: process.pid,
    startedAt: new Date().toISOString(),
  };
}

/**
 * What differs between a function's AWS and local environment: where the SDK sends its calls, and the credentials
 * (in AWS the execution role's; here the state directory's access key, which the local endpoint verifies).
 */
function lambdaAwsEnvironment(endpoint: AwsEndpoint, credentials: AwsCredentials): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint.url,
    // DynamoDB straight to the store process (the SDK v3's service-specific endpoint), no hop through the endpoint.
    AWS_ENDPOINT_URL_DYNAMODB: endpoint.storeUrl,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_ACCOUNT_ID: LOCAL_ACCOUNT_ID,
    // The functions run on Node 24 in Lambda; only the local workers run on this machine's Node 20.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}
