import {
  DescribeStacksCommand,
  GetTemplateCommand,
  paginateListStackResources,
  type CloudFormationClient,
  type StackResourceSummary,
} from '@aws-sdk/client-cloudformation';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { carOrdersService } from '../car-orders/service.js';
import type { ServiceDeclaration } from '../shared/declarations.js';
import { assertStage, stackNames } from '../shared/names.js';
import { tireOrdersEvents, tireOrdersService } from '../tire-orders/service.js';
import { stageAlarms, type AlarmView } from './alarms.js';
import { ApiLocator } from './api-locator.js';
import { stageClients } from './aws-clients.js';
import { OperatorError } from './errors.js';
import {
  COMPANIES,
  type Company,
  type CustomerAccess,
  type FunctionLogGroup,
  type RotationDeadlineScheduler,
  type UserPoolHandle,
} from './locator.js';
import { declaredTableIds, functionLogGroupId, type StackTemplate } from './stack-template.js';

const SERVICES: Record<Company, ServiceDeclaration<string>> = {
  'car-orders': carOrdersService,
  'tire-orders': tireOrdersService,
};

/**
 * A deployed stage, located from its two CloudFormation stacks (`${stage}-CarOrders`, `${stage}-TireOrders`): their
 * outputs (user pools, token URLs, the event bus, the dead-letter queue), their templates and resource lists for
 * the tables and function log groups the outputs do not name (see stack-template.ts), and the services' own APIs
 * for the rest. A stack that does not exist in the account is a company this stage does not run here.
 */
export class StackLocator extends ApiLocator {
  readonly kind = 'aws';
  readonly label: string;
  readonly stacks: Stacks;

  constructor(stage: string, region: string | undefined) {
    try {
      assertStage(stage);
    } catch (error) {
      throw new OperatorError((error as Error).message);
    }
    const clients = stageClients(region);
    super(stage, clients);
    this.label = `stage ${stage}${region ? ` (${region})` : ''}`;
    this.stacks = new Stacks(clients.cloudFormation!, stage);
  }

  protected eventBusName(): Promise<string> {
    return this.stacks.output('tire-orders', 'EventBusName');
  }

  protected preferredArchive(): undefined {
    return undefined;
  }

  protected callbackRuleName(): string {
    return tireOrdersEvents.completionCallback.ruleName;
  }

  protected deadLetterQueueFallback(): Promise<string> {
    return this.stacks.output('tire-orders', 'CallbackDeadLetterQueueUrl');
  }

  async companies(): Promise<Company[]> {
    const present: Company[] = [];
    for (const company of COMPANIES) if (await this.stacks.outputs(company)) present.push(company);
    return present;
  }

  tables(): Promise<{ carOrders: string; tireOrders: string }> {
    return this.once('tables', async () => {
      const [carOrders, tireOrders] = await Promise.all([
        this.stacks.declaredTable('car-orders', 'orders'),
        this.stacks.declaredTable('tire-orders', 'tireOrders'),
      ]);
      return { carOrders, tireOrders };
    });
  }

  userPool(company: Company): Promise<UserPoolHandle> {
    return this.once(`userPool:${company}`, async () => {
      const [id, tokenUrl] = await Promise.all([
        this.stacks.output(company, 'UserPoolId'),
        this.stacks.output(company, 'TokenUrl'),
      ]);
      const region = await this.clients.cognito.config.region();
      const issuer = `https://cognito-idp.${region}.amazonaws.com/${id}`;
      return { company, id, issuer, jwksUri: `${issuer}/.well-known/jwks.json`, tokenUrl };
    });
  }

  /** The car stack's outputs ApiUrl, TokenUrl, CustomerClientId and the secret CustomerClientSecretArn names. */
  customerAccess(): Promise<CustomerAccess> {
    return this.once('customerAccess', async () => {
      const [apiUrl, tokenUrl, clientId, secretArn] = await Promise.all(
        ['ApiUrl', 'TokenUrl', 'CustomerClientId', 'CustomerClientSecretArn'].map((key) =>
          this.stacks.output('car-orders', key),
        ),
      );
      let clientSecret: string | undefined;
      try {
        clientSecret = (await this.clients.secrets.send(new GetSecretValueCommand({ SecretId: secretArn })))
          .SecretString;
      } catch (error) {
        throw new OperatorError(`GetSecretValue ${secretArn} failed: ${(error as Error).message}`);
      }
      if (!clientSecret) throw new OperatorError(`Secret ${secretArn} has no SecretString.`);
      return { apiUrl: apiUrl!, tokenUrl: tokenUrl!, clientId: clientId!, clientSecret, secretSource: secretArn! };
    });
  }

  /** The car stack's outputs RotationScheduleGroup and RotationDeadlineRoleArn. */
  rotationDeadlineScheduler(): Promise<RotationDeadlineScheduler> {
    return this.once('rotationDeadlineScheduler', async () => {
      const [groupName, roleArn] = await Promise.all(
        ['RotationScheduleGroup', 'RotationDeadlineRoleArn'].map((key) => this.stacks.output('car-orders', key)),
      );
      return { groupName: groupName!, roleArn: roleArn! };
    });
  }

  async alarms(): Promise<AlarmView[]> {
    return stageAlarms(await this.companies(), this.stacks, {
      cloudWatch: this.clients.cloudWatch!,
      events: this.clients.events,
    });
  }

  functionLogGroups(): Promise<FunctionLogGroup[]> {
    return this.once('functionLogs', async () => {
      const groups: FunctionLogGroup[] = [];
      for (const company of await this.companies()) {
        for (const [functionName, declaration] of Object.entries(SERVICES[company].functions)) {
          const logicalId = functionLogGroupId(await this.stacks.template(company), declaration);
          // A function without its own log group writes to the default /aws/lambda/<name>; not searched here.
          if (logicalId)
            groups.push({ company, functionName, logGroupName: await this.stacks.physicalId(company, logicalId) });
        }
      }
      return groups;
    });
  }
}

/** The two stacks of a stage: outputs, templates and resource lists, each read once. */
export class Stacks {
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(
    private readonly client: CloudFormationClient,
    private readonly stage: string,
  ) {}

  stackName(company: Company): string {
    return company === 'car-orders' ? stackNames.carOrders(this.stage) : stackNames.tireOrders(this.stage);
  }

  private once<T>(key: string, read: () => Promise<T>): Promise<T> {
    let cached = this.cache.get(key) as Promise<T> | undefined;
    if (!cached) {
      cached = read();
      this.cache.set(key, cached);
    }
    return cached;
  }

  /** The stack's outputs, or undefined when this account does not run that company's stack. */
  outputs(company: Company): Promise<Record<string, string> | undefined> {
    const stackName = this.stackName(company);
    return this.once(`outputs:${stackName}`, () =>
      this.client.send(new DescribeStacksCommand({ StackName: stackName })).then(
        (result) =>
          Object.fromEntries((result.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? ''])),
        (error: Error) => {
          if (/does not exist/i.test(error.message)) return undefined;
          throw new OperatorError(`DescribeStacks ${stackName} failed: ${error.message}`);
        },
      ),
    );
  }

  async output(company: Company, key: string): Promise<string> {
    const outputs = await this.outputs(company);
    if (!outputs)
      throw new OperatorError(`Stack ${this.stackName(company)} does not exist in this account and region.`);
    const value = outputs[key];
    if (!value) throw new OperatorError(`Stack ${this.stackName(company)} has no output ${key}.`);
    return value;
  }

  resources(company: Company): Promise<StackResourceSummary[]> {
    const stackName = this.stackName(company);
    return this.once(`resources:${stackName}`, async () => {
      const all: StackResourceSummary[] = [];
      try {
        for await (const page of paginateListStackResources({ client: this.client }, { StackName: stackName })) {
          all.push(...(page.StackResourceSummaries ?? []));
        }
      } catch (error) {
        throw new OperatorError(`ListStackResources ${stackName} failed: ${(error as Error).message}`);
      }
      return all;
    });
  }

  template(company: Company): Promise<StackTemplate> {
    const stackName = this.stackName(company);
    return this.once(`template:${stackName}`, async () => {
      let body: string | undefined;
      try {
        body = (await this.client.send(new GetTemplateCommand({ StackName: stackName }))).TemplateBody;
        return JSON.parse(body ?? '') as StackTemplate;
      } catch (error) {
        const reason = body === undefined ? (error as Error).message : 'the template is not JSON (CDK deploys JSON)';
        throw new OperatorError(`GetTemplate ${stackName} failed: ${reason}`);
      }
    });
  }

  /** The physical id of the one resource of a type whose logical id matches, if the stack has it. */
  async physicalIdMatching(company: Company, logicalId: RegExp, type: string): Promise<string | undefined> {
    const matches = (await this.resources(company)).filter(
      (resource) => resource.ResourceType === type && logicalId.test(resource.LogicalResourceId ?? ''),
    );
    if (matches.length > 1)
      throw new OperatorError(`Stack ${this.stackName(company)} has ${matches.length} ${type} matching ${logicalId}.`);
    return matches[0]?.PhysicalResourceId;
  }

  /** The physical id of a resource the template names. */
  async physicalId(company: Company, logicalId: string): Promise<string> {
    const match = (await this.resources(company)).find((resource) => resource.LogicalResourceId === logicalId);
    if (!match?.PhysicalResourceId)
      throw new OperatorError(`Stack ${this.stackName(company)} has no resource ${logicalId}.`);
    return match.PhysicalResourceId;
  }

  /** The table of the stack that the service declares under `key`. */
  async declaredTable(company: Company, key: string): Promise<string> {
    const declaration = SERVICES[company].tables[key];
    if (!declaration) throw new OperatorError(`${company} declares no table ${key}.`);
    const ids = declaredTableIds(await this.template(company), declaration);
    if (ids.length !== 1) {
      throw new OperatorError(
        `Stack ${this.stackName(company)} has ${ids.length} tables shaped like the declared ${key} table; expected one.`,
      );
    }
    return this.physicalId(company, ids[0]!);
  }
}
