import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { APIGatewayClient, GetRestApisCommand, GetStageCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  type StackResourceSummary,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeArchiveCommand,
  DescribeEventBusCommand,
  EventBridgeClient,
  ListArchivesCommand,
  ListRulesCommand,
  ListTargetsByRuleCommand,
} from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { ListIPSetsCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { carOrdersService } from '../car-orders/service.js';
import type { RuntimeDescription } from '../local/runtime.js';
import { assertStage } from '../shared/names.js';
import { tireOrdersService } from '../tire-orders/service.js';
import { OperatorError } from './command.js';
import { stageNames, type StageNames } from './names.js';

/**
 * Where the CLI acts: the local runtime (default; described by <state-dir>/runtime.json) or a deployed stage
 * (--stage NAME). Both are reached with the same real AWS SDK v3 clients: locally they point at the runtime's AWS
 * endpoint with dummy credentials, on AWS they use the default credential chain. Resources are found the same way
 * in both places wherever an API allows it (the callback rule on the bus, its dead-letter queue from the rule's
 * target, the REST APIs, usage plan and IP set by the names the stacks give them); what only the stacks know comes
 * from their outputs (DescribeStacks on `${stage}-CarOrders` / `${stage}-TireOrders`) or their resource list.
 */

export interface Clients {
  events: EventBridgeClient;
  dynamodb: DynamoDBDocumentClient;
  sqs: SQSClient;
  ssm: SSMClient;
  secrets: SecretsManagerClient;
  cognito: CognitoIdentityProviderClient;
  apiGateway: APIGatewayClient;
  waf: WAFV2Client;
  /** AWS only: the API access logs and function logs. */
  logs?: CloudWatchLogsClient;
  cloudFormation?: CloudFormationClient;
}

export interface LocalTargetInfo {
  stateDir: string;
  description: RuntimeDescription;
  /** <state-dir>/audit.jsonl: every token, request, event and delivery the runtime recorded. */
  auditPath: string;
  awsEndpoint: string;
}

export type Company = 'car-orders' | 'tire-orders';

export interface EventBusHandle {
  name: string;
  arn: string;
}
export interface ArchiveHandle {
  name: string;
  arn: string;
  eventCount?: number;
  sizeBytes?: number;
  retentionDays?: number;
}
export interface RuleTargetHandle {
  id: string;
  arn: string;
  deadLetterArn?: string;
}
export interface RuleHandle {
  name: string;
  arn: string;
  eventPattern?: string;
  targets: RuleTargetHandle[];
}
export interface UserPoolHandle {
  company: Company;
  id: string;
  issuer: string;
  jwksUri: string;
  tokenUrl?: string;
}
export interface RestApiHandle {
  company: Company;
  id: string;
  name: string;
  stageName: string;
}
export interface IpSetHandle {
  name: string;
  id: string;
  scope: 'REGIONAL';
}

export interface Target {
  kind: 'local' | 'aws';
  stage: string;
  /** For messages: "local runtime (.local, pid 1234)" or "stage dev". */
  label: string;
  names: StageNames;
  clients: Clients;
  /** Present for the local runtime. */
  local?: LocalTargetInfo;
  resources: Resources;
  close(): void;
}

export interface TargetOptions {
  stage?: string;
  stateDir?: string;
  region?: string;
  /** Base for a relative state directory (default process.cwd()). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** The local endpoint does not check signatures, but the SDK signs every request. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export async function resolveTarget(options: TargetOptions): Promise<Target> {
  if (options.stage !== undefined) return awsTarget(options.stage, options.region);
  const env = options.env ?? process.env;
  const stateDir = resolve(options.cwd ?? process.cwd(), options.stateDir ?? env.B2B_STATE_DIR ?? '.local');
  return localTarget(stateDir);
}

function localTarget(stateDir: string): Target {
  const file = join(stateDir, 'runtime.json');
  let description: RuntimeDescription;
  try {
    description = JSON.parse(readFileSync(file, 'utf8')) as RuntimeDescription;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new OperatorError(
        `No local runtime found: ${file} does not exist. Start one with "npm start" (or pass --state-dir), ` +
          'or use --stage NAME for a deployed stage.',
      );
    }
    throw new OperatorError(`Cannot read ${file}: ${(error as Error).message}`);
  }
  if (!isRunning(description.pid)) {
    throw new OperatorError(`The local runtime described by ${file} (pid ${description.pid}) is not running; start it with "npm start".`);
  }
  const config = { endpoint: description.awsEndpoint, region: description.region, credentials: LOCAL_CREDENTIALS, maxAttempts: 2 };
  const clients = createClients(config, false);
  const stage = description.stage;
  const names = stageNames(stage);
  const local: LocalTargetInfo = {
    stateDir,
    description,
    auditPath: join(stateDir, 'audit.jsonl'),
    awsEndpoint: description.awsEndpoint,
  };
  const target: Target = {
    kind: 'local',
    stage,
    label: `local runtime (${stateDir}, pid ${description.pid})`,
    names,
    clients,
    local,
    resources: undefined as unknown as Resources,
    close: () => destroyClients(clients),
  };
  target.resources = new Resources(target, undefined);
  return target;
}

function awsTarget(stage: string, region: string | undefined): Target {
  try {
    assertStage(stage);
  } catch (error) {
    throw new OperatorError((error as Error).message);
  }
  const clients = createClients(region ? { region } : {}, true);
  const names = stageNames(stage);
  const target: Target = {
    kind: 'aws',
    stage,
    label: `stage ${stage}${region ? ` (${region})` : ''}`,
    names,
    clients,
    resources: undefined as unknown as Resources,
    close: () => destroyClients(clients),
  };
  target.resources = new Resources(target, new Stacks(clients.cloudFormation!, names));
  return target;
}

function createClients(config: Record<string, unknown>, aws: boolean): Clients {
  return {
    events: new EventBridgeClient(config),
    dynamodb: DynamoDBDocumentClient.from(new DynamoDBClient(config), { marshallOptions: { removeUndefinedValues: true } }),
    sqs: new SQSClient(config),
    ssm: new SSMClient(config),
    secrets: new SecretsManagerClient(config),
    cognito: new CognitoIdentityProviderClient(config),
    apiGateway: new APIGatewayClient(config),
    waf: new WAFV2Client(config),
    ...(aws ? { logs: new CloudWatchLogsClient(config), cloudFormation: new CloudFormationClient(config) } : {}),
  };
}

function destroyClients(clients: Clients): void {
  for (const client of Object.values(clients)) (client as { destroy(): void } | undefined)?.destroy();
}

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The two stacks of a stage: outputs and resource lists, each read once. */
export class Stacks {
  private readonly outputCache = new Map<string, Promise<Record<string, string> | undefined>>();
  private readonly resourceCache = new Map<string, Promise<StackResourceSummary[]>>();

  constructor(
    private readonly client: CloudFormationClient,
    private readonly names: StageNames,
  ) {}

  stackName(company: Company): string {
    return company === 'car-orders' ? this.names.carOrdersStack : this.names.tireOrdersStack;
  }

  /** The stack's outputs, or undefined when this account does not run that company's stack. */
  outputs(company: Company): Promise<Record<string, string> | undefined> {
    const stackName = this.stackName(company);
    let cached = this.outputCache.get(stackName);
    if (!cached) {
      cached = this.client.send(new DescribeStacksCommand({ StackName: stackName })).then(
        (result) => Object.fromEntries((result.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? ''])),
        (error: Error) => {
          if (/does not exist/i.test(error.message)) return undefined;
          throw new OperatorError(`DescribeStacks ${stackName} failed: ${error.message}`);
        },
      );
      this.outputCache.set(stackName, cached);
    }
    return cached;
  }

  async output(company: Company, key: string): Promise<string> {
    const outputs = await this.outputs(company);
    if (!outputs) throw new OperatorError(`Stack ${this.stackName(company)} does not exist in this account and region.`);
    const value = outputs[key];
    if (!value) throw new OperatorError(`Stack ${this.stackName(company)} has no output ${key}.`);
    return value;
  }

  resources(company: Company): Promise<StackResourceSummary[]> {
    const stackName = this.stackName(company);
    let cached = this.resourceCache.get(stackName);
    if (!cached) {
      cached = (async () => {
        const all: StackResourceSummary[] = [];
        let token: string | undefined;
        do {
          const page = await this.client.send(new ListStackResourcesCommand({ StackName: stackName, NextToken: token }));
          all.push(...(page.StackResourceSummaries ?? []));
          token = page.NextToken;
        } while (token);
        return all;
      })().catch((error: Error) => {
        throw new OperatorError(`ListStackResources ${stackName} failed: ${error.message}`);
      });
      this.resourceCache.set(stackName, cached);
    }
    return cached;
  }

  /**
   * A resource's physical id by its construct id: CDK names a top-level construct's resource `<Id><8 hex digits>`
   * (e.g. OrdersTable315BB997), so the construct id the stack uses identifies it without hard-coding the hash.
   */
  async physicalId(company: Company, constructId: string, resourceType: string): Promise<string> {
    const pattern = new RegExp(`^${constructId}[0-9A-F]{8}$`);
    const match = (await this.resources(company)).find(
      (resource) => resource.ResourceType === resourceType && pattern.test(resource.LogicalResourceId ?? ''),
    );
    if (!match?.PhysicalResourceId) {
      throw new OperatorError(`Stack ${this.stackName(company)} has no ${resourceType} ${constructId}.`);
    }
    return match.PhysicalResourceId;
  }
}

/** Typed handles on the resources commands use, each resolved once on first use. */
export class Resources {
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(
    private readonly target: Pick<Target, 'kind' | 'stage' | 'names' | 'clients' | 'local'>,
    readonly stacks: Stacks | undefined,
  ) {}

  private once<T>(key: string, resolveValue: () => Promise<T>): Promise<T> {
    let cached = this.cache.get(key) as Promise<T> | undefined;
    if (!cached) {
      cached = resolveValue();
      this.cache.set(key, cached);
      // A failed lookup is not cached: the next call tries again.
      cached.catch(() => this.cache.delete(key));
    }
    return cached;
  }

  private get local(): LocalTargetInfo | undefined {
    return this.target.local;
  }

  eventBus(): Promise<EventBusHandle> {
    return this.once('eventBus', async () => {
      const name = this.local
        ? this.local.description.names.eventBus
        : await this.stacks!.output('tire-orders', 'EventBusName');
      const bus = await this.target.clients.events.send(new DescribeEventBusCommand({ Name: name }));
      return { name, arn: bus.Arn ?? '' };
    });
  }

  /** The archive on the supplier's bus (the stack creates one, for replays after a failed delivery). */
  archive(): Promise<ArchiveHandle> {
    return this.once('archive', async () => {
      const bus = await this.eventBus();
      const listed = await this.target.clients.events.send(new ListArchivesCommand({ EventSourceArn: bus.arn, Limit: 100 }));
      const archives = (listed.Archives ?? []).filter((a) => a.State !== 'DISABLED');
      const preferred = archives.find((a) => a.ArchiveName === this.local?.description.names.archive) ?? archives[0];
      if (!preferred?.ArchiveName) throw new OperatorError(`No archive on event bus ${bus.name}.`);
      const archive = await this.target.clients.events.send(new DescribeArchiveCommand({ ArchiveName: preferred.ArchiveName }));
      return {
        name: preferred.ArchiveName,
        arn: archive.ArchiveArn ?? '',
        ...(archive.EventCount !== undefined ? { eventCount: archive.EventCount } : {}),
        ...(archive.SizeBytes !== undefined ? { sizeBytes: archive.SizeBytes } : {}),
        ...(archive.RetentionDays !== undefined ? { retentionDays: archive.RetentionDays } : {}),
      };
    });
  }

  rules(): Promise<RuleHandle[]> {
    return this.once('rules', async () => {
      const bus = await this.eventBus();
      const rules: RuleHandle[] = [];
      let token: string | undefined;
      do {
        const page = await this.target.clients.events.send(new ListRulesCommand({ EventBusName: bus.name, NextToken: token }));
        for (const rule of page.Rules ?? []) {
          if (!rule.Name || !rule.Arn) continue;
          const targets = await this.target.clients.events.send(new ListTargetsByRuleCommand({ Rule: rule.Name, EventBusName: bus.name }));
          rules.push({
            name: rule.Name,
            arn: rule.Arn,
            ...(rule.EventPattern ? { eventPattern: rule.EventPattern } : {}),
            targets: (targets.Targets ?? []).map((t) => ({
              id: t.Id ?? '',
              arn: t.Arn ?? '',
              ...(t.DeadLetterConfig?.Arn ? { deadLetterArn: t.DeadLetterConfig.Arn } : {}),
            })),
          });
        }
        token = page.NextToken;
      } while (token);
      return rules;
    });
  }

  /** A rule of the supplier's bus by its name, or by its declared name (which the local runtime prefixes with the stage). */
  async rule(name: string): Promise<RuleHandle> {
    const rules = await this.rules();
    const found = rules.find((rule) => rule.name === name) ?? rules.find((rule) => rule.name === `${this.target.stage}-${name}`);
    if (!found) {
      throw new OperatorError(`No rule ${name} on the supplier's event bus; its rules are: ${rules.map((r) => r.name).join(', ') || '(none)'}.`);
    }
    return found;
  }

  callbackRule(): Promise<RuleHandle> {
    return this.rule(this.target.names.callbackRule);
  }

  /** The completion callback's dead-letter queue: the one its rule target names (DeadLetterConfig.Arn). */
  deadLetterQueueUrl(): Promise<string> {
    return this.once('dlq', async () => {
      const rule = await this.callbackRule();
      const arn = rule.targets.find((t) => t.deadLetterArn)?.deadLetterArn;
      if (!arn) {
        if (this.stacks) return this.stacks.output('tire-orders', 'CallbackDeadLetterQueueUrl');
        throw new OperatorError(`The targets of rule ${rule.name} have no dead-letter queue.`);
      }
      const [, , , , account, queueName] = arn.split(':');
      const result = await this.target.clients.sqs.send(
        new GetQueueUrlCommand({ QueueName: queueName, ...(account ? { QueueOwnerAWSAccountId: account } : {}) }),
      );
      if (!result.QueueUrl) throw new OperatorError(`Queue ${arn} has no URL.`);
      return result.QueueUrl;
    });
  }

  tables(): Promise<{ carOrders: string; tireOrders: string }> {
    return this.once('tables', async () => {
      if (this.local) {
        return { carOrders: this.local.description.names.carOrdersTable, tireOrders: this.local.description.names.tireOrdersTable };
      }
      const [carOrders, tireOrders] = await Promise.all([
        this.stacks!.physicalId('car-orders', 'OrdersTable', 'AWS::DynamoDB::Table'),
        this.stacks!.physicalId('tire-orders', 'TireOrdersTable', 'AWS::DynamoDB::Table'),
      ]);
      return { carOrders, tireOrders };
    });
  }

  userPool(company: Company): Promise<UserPoolHandle> {
    return this.once(`userPool:${company}`, async () => {
      if (this.local) {
        const d = this.local.description;
        const issuer = company === 'car-orders' ? d.carIssuer : d.tireIssuer;
        const id = issuer.slice(issuer.lastIndexOf('/') + 1);
        return {
          company,
          id,
          issuer,
          jwksUri: `${issuer}/.well-known/jwks.json`,
          tokenUrl: company === 'car-orders' ? d.carTokenUrl : d.tireTokenUrl,
        };
      }
      const [id, tokenUrl] = await Promise.all([
        this.stacks!.output(company, 'UserPoolId'),
        this.stacks!.output(company, 'TokenUrl'),
      ]);
      const region = await this.target.clients.cognito.config.region();
      const issuer = `https://cognito-idp.${region}.amazonaws.com/${id}`;
      return { company, id, issuer, jwksUri: `${issuer}/.well-known/jwks.json`, tokenUrl };
    });
  }

  /** Both companies' user pools that exist on this target (a split deployment runs one). */
  async userPools(): Promise<UserPoolHandle[]> {
    const pools: UserPoolHandle[] = [];
    for (const company of ['car-orders', 'tire-orders'] as const) {
      if (this.stacks && !(await this.stacks.outputs(company))) continue;
      pools.push(await this.userPool(company));
    }
    return pools;
  }

  restApi(company: Company): Promise<RestApiHandle> {
    return this.once(`restApi:${company}`, async () => {
      const name = company === 'car-orders' ? this.target.names.carApi : this.target.names.tireApi;
      let position: string | undefined;
      do {
        const page = await this.target.clients.apiGateway.send(new GetRestApisCommand({ limit: 500, position }));
        const api = page.items?.find((item) => item.name === name);
        if (api?.id) return { company, id: api.id, name, stageName: this.target.stage };
        position = page.position;
      } while (position);
      throw new OperatorError(`No REST API named ${name}.`);
    });
  }

  /** The usage plan every partner API key belongs to. */
  usagePlan(): Promise<{ id: string; name: string }> {
    return this.once('usagePlan', async () => {
      const name = this.target.names.partnerUsagePlan;
      let position: string | undefined;
      do {
        const page = await this.target.clients.apiGateway.send(new GetUsagePlansCommand({ limit: 500, position }));
        const plan = page.items?.find((item) => item.name === name);
        if (plan?.id) return { id: plan.id, name };
        position = page.position;
      } while (position);
      throw new OperatorError(`No usage plan named ${name}.`);
    });
  }

  /** The WAF IP set of the supplier's allowlist (REGIONAL: the web ACL is on the API Gateway stage). */
  partnerIpSet(): Promise<IpSetHandle> {
    return this.once('ipSet', async () => {
      const name = this.target.names.partnerIpSet;
      let marker: string | undefined;
      do {
        const page = await this.target.clients.waf.send(new ListIPSetsCommand({ Scope: 'REGIONAL', Limit: 100, NextMarker: marker }));
        const set = page.IPSets?.find((item) => item.Name === name);
        if (set?.Id) return { name, id: set.Id, scope: 'REGIONAL' as const };
        marker = page.IPSets && page.IPSets.length > 0 ? page.NextMarker : undefined;
      } while (marker);
      throw new OperatorError(`No WAF IP set named ${name} (scope REGIONAL).`);
    });
  }

  /** AWS: the API stage's access log group (GetStage accessLogSettings.destinationArn). */
  accessLogGroup(company: Company): Promise<string> {
    return this.once(`accessLogs:${company}`, async () => {
      const api = await this.restApi(company);
      const stage = await this.target.clients.apiGateway.send(new GetStageCommand({ restApiId: api.id, stageName: api.stageName }));
      const arn = stage.accessLogSettings?.destinationArn;
      const name = arn?.split(':log-group:')[1]?.replace(/:\*$/, '');
      if (!name) throw new OperatorError(`Stage ${api.stageName} of ${api.name} has no access log destination.`);
      return name;
    });
  }

  /** AWS: each declared function's log group (ServiceFunction's `<Function>/LogGroup`), by company. */
  functionLogGroups(): Promise<{ company: Company; functionName: string; logGroupName: string }[]> {
    return this.once('functionLogs', async () => {
      const groups: { company: Company; functionName: string; logGroupName: string }[] = [];
      const declared: [Company, string[]][] = [
        ['car-orders', Object.keys(carOrdersService.functions)],
        ['tire-orders', Object.keys(tireOrdersService.functions)],
      ];
      for (const [company, functions] of declared) {
        if (!(await this.stacks!.outputs(company))) continue;
        for (const functionName of functions) {
          const constructId = `${functionName[0]!.toUpperCase()}${functionName.slice(1)}LogGroup`;
          try {
            groups.push({ company, functionName, logGroupName: await this.stacks!.physicalId(company, constructId, 'AWS::Logs::LogGroup') });
          } catch {
            // A function without its own log group writes to the default /aws/lambda/<name>; not searched here.
          }
        }
      }
      return groups;
    });
  }
}
