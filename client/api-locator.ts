import { GetStageCommand, paginateGetRestApis, paginateGetUsagePlans } from '@aws-sdk/client-api-gateway';
import {
  DescribeArchiveCommand,
  DescribeEventBusCommand,
  ListArchivesCommand,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  type Rule,
} from '@aws-sdk/client-eventbridge';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { ListIPSetsCommand } from '@aws-sdk/client-wafv2';
import { carOrdersService } from '../car-orders/service.js';
import { apiName, partnerAllowlistName, partnerUsagePlanName } from '../shared/names.js';
import { tireOrdersService } from '../tire-orders/service.js';
import type { AlarmView } from './alarms.js';
import { destroyClients, type Clients } from './aws-clients.js';
import { OperatorError } from './errors.js';
import {
  type ArchiveHandle,
  type Company,
  type CustomerAccess,
  type EventBusHandle,
  type FunctionLogGroup,
  type IpSetHandle,
  type LocalRuntimeInfo,
  type ResourceLocator,
  type RestApiHandle,
  type RotationDeadlineScheduler,
  type RuleHandle,
  type UserPoolHandle,
} from './locator.js';

/**
 * What both locators find the same way, through the services' own APIs: the bus by name, its archive and rules, the
 * callback's dead-letter queue from its rule's target, the REST APIs, usage plan and IP set by the names the stacks
 * (and the local runtime) give them, an API stage's access log group. What only one side knows (the bus name, the
 * tables, the user pools, which companies run) each locator says itself.
 */
export abstract class ApiLocator implements ResourceLocator {
  abstract readonly kind: 'local' | 'aws';
  abstract readonly label: string;
  readonly local?: LocalRuntimeInfo;
  private readonly cache = new Map<string, Promise<unknown>>();

  protected constructor(
    readonly stage: string,
    readonly clients: Clients,
  ) {}

  protected abstract eventBusName(): Promise<string>;
  /** The archive to prefer when the bus has several. */
  protected abstract preferredArchive(): string | undefined;
  protected abstract callbackRuleName(): string;
  /** When the callback rule's target names no dead-letter queue. */
  protected abstract deadLetterQueueFallback(rule: RuleHandle): Promise<string>;
  abstract companies(): Promise<Company[]>;
  abstract tables(): Promise<{ carOrders: string; tireOrders: string }>;
  abstract userPool(company: Company): Promise<UserPoolHandle>;
  abstract functionLogGroups(): Promise<FunctionLogGroup[]>;
  abstract customerAccess(): Promise<CustomerAccess>;
  abstract alarms(): Promise<AlarmView[]>;
  abstract rotationDeadlineScheduler(): Promise<RotationDeadlineScheduler | undefined>;

  protected once<T>(key: string, resolveValue: () => Promise<T>): Promise<T> {
    let cached = this.cache.get(key) as Promise<T> | undefined;
    if (!cached) {
      cached = resolveValue();
      this.cache.set(key, cached);
      // A failed lookup is not cached: the next call tries again.
      cached.catch(() => this.cache.delete(key));
    }
    return cached;
  }

  close(): void {
    destroyClients(this.clients);
  }

  eventBus(): Promise<EventBusHandle> {
    return this.once('eventBus', async () => {
      const name = await this.eventBusName();
      const bus = await this.clients.events.send(new DescribeEventBusCommand({ Name: name }));
      return { name, arn: bus.Arn ?? '' };
    });
  }

  archive(): Promise<ArchiveHandle> {
    return this.once('archive', async () => {
      const bus = await this.eventBus();
      const listed = await this.clients.events.send(new ListArchivesCommand({ EventSourceArn: bus.arn, Limit: 100 }));
      const archives = (listed.Archives ?? []).filter((a) => a.State !== 'DISABLED');
      const preferred = archives.find((a) => a.ArchiveName === this.preferredArchive()) ?? archives[0];
      if (!preferred?.ArchiveName) throw new OperatorError(`No archive on event bus ${bus.name}.`);
      const archive = await this.clients.events.send(
        new DescribeArchiveCommand({ ArchiveName: preferred.ArchiveName }),
      );
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
      // EventBridge has no SDK paginator for ListRules.
      let token: string | undefined;
      do {
        const page = await this.clients.events.send(new ListRulesCommand({ EventBusName: bus.name, NextToken: token }));
        for (const rule of page.Rules ?? [])
          if (rule.Name && rule.Arn) rules.push(await this.ruleHandle(bus.name, rule));
        token = page.NextToken;
      } while (token);
      return rules;
    });
  }

  private async ruleHandle(busName: string, rule: Rule): Promise<RuleHandle> {
    const targets = await this.clients.events.send(
      new ListTargetsByRuleCommand({ Rule: rule.Name, EventBusName: busName }),
    );
    return {
      name: rule.Name ?? '',
      arn: rule.Arn ?? '',
      ...(rule.EventPattern ? { eventPattern: rule.EventPattern } : {}),
      targets: (targets.Targets ?? []).map((t) => ({
        id: t.Id ?? '',
        arn: t.Arn ?? '',
        ...(t.DeadLetterConfig?.Arn ? { deadLetterArn: t.DeadLetterConfig.Arn } : {}),
      })),
    };
  }

  async rule(name: string): Promise<RuleHandle> {
    const rules = await this.rules();
    const found = rules.find((rule) => rule.name === name);
    if (!found) {
      throw new OperatorError(
        `No rule ${name} on the supplier's event bus; its rules are: ${rules.map((r) => r.name).join(', ') || '(none)'}.`,
      );
    }
    return found;
  }

  callbackRule(): Promise<RuleHandle> {
    return this.rule(this.callbackRuleName());
  }

  /** The one the callback rule's target names (DeadLetterConfig.Arn). */
  deadLetterQueueUrl(): Promise<string> {
    return this.once('dlq', async () => {
      const rule = await this.callbackRule();
      const arn = rule.targets.find((t) => t.deadLetterArn)?.deadLetterArn;
      if (!arn) return this.deadLetterQueueFallback(rule);
      const [, , , , account, queueName] = arn.split(':');
      const result = await this.clients.sqs.send(
        new GetQueueUrlCommand({ QueueName: queueName, ...(account ? { QueueOwnerAWSAccountId: account } : {}) }),
      );
      if (!result.QueueUrl) throw new OperatorError(`Queue ${arn} has no URL.`);
      return result.QueueUrl;
    });
  }

  async userPools(): Promise<UserPoolHandle[]> {
    const pools: UserPoolHandle[] = [];
    for (const company of await this.companies()) pools.push(await this.userPool(company));
    return pools;
  }

  restApi(company: Company): Promise<RestApiHandle> {
    return this.once(`restApi:${company}`, async () => {
      const name = apiName(this.stage, company === 'car-orders' ? carOrdersService : tireOrdersService);
      for await (const page of paginateGetRestApis({ client: this.clients.apiGateway, pageSize: 500 }, {})) {
        const api = page.items?.find((item) => item.name === name);
        if (api?.id) return { company, id: api.id, name, stageName: this.stage };
      }
      throw new OperatorError(`No REST API named ${name}.`);
    });
  }

  usagePlan(): Promise<{ id: string; name: string }> {
    return this.once('usagePlan', async () => {
      const name = partnerUsagePlanName(this.stage);
      for await (const page of paginateGetUsagePlans({ client: this.clients.apiGateway, pageSize: 500 }, {})) {
        const plan = page.items?.find((item) => item.name === name);
        if (plan?.id) return { id: plan.id, name };
      }
      throw new OperatorError(`No usage plan named ${name}.`);
    });
  }

  partnerIpSet(): Promise<IpSetHandle> {
    return this.once('ipSet', async () => {
      const name = partnerAllowlistName(this.stage);
      // WAFv2 has no SDK paginator; it returns a NextMarker even on the last page, so an empty page ends the list.
      let marker: string | undefined;
      do {
        const page = await this.clients.waf.send(
          new ListIPSetsCommand({ Scope: 'REGIONAL', Limit: 100, NextMarker: marker }),
        );
        const set = page.IPSets?.find((item) => item.Name === name);
        if (set?.Id) return { name, id: set.Id, scope: 'REGIONAL' as const };
        marker = page.IPSets && page.IPSets.length > 0 ? page.NextMarker : undefined;
      } while (marker);
      throw new OperatorError(`No WAF IP set named ${name} (scope REGIONAL).`);
    });
  }

  /** GetStage accessLogSettings.destinationArn. */
  accessLogGroup(company: Company): Promise<string> {
    return this.once(`accessLogs:${company}`, async () => {
      const api = await this.restApi(company);
      const stage = await this.clients.apiGateway.send(
        new GetStageCommand({ restApiId: api.id, stageName: api.stageName }),
      );
      const arn = stage.accessLogSettings?.destinationArn;
      const name = arn?.split(':log-group:')[1]?.replace(/:\*$/, '');
      if (!name) throw new OperatorError(`Stage ${api.stageName} of ${api.name} has no access log destination.`);
      return name;
    });
  }
}
