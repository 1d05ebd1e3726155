import { AwsServiceError } from '../protocol.js';
import { ApiDestinationInvoker } from './api-destination.js';
import { EventPattern, InvalidEventPatternError } from './event-pattern.js';
import {
  DEFAULT_EVENT_BUS,
  DEFAULT_RETRY_POLICY,
  MAX_TARGETS_PER_RULE,
  NAME_PATTERN,
  apiDestinationArn,
  busNameOf,
  eventBusArn,
  lambdaFunctionArn,
  ruleArn,
  type Bus,
  type CompiledTarget,
  type EventBusInfo,
  type Rule,
  type RuleDefinition,
  type RuleInfo,
  type RuleTarget,
  type TargetInfo,
} from './model.js';

/**
 * Event buses and their rules, as the runtime declares them: names checked as EventBridge checks them, a rule's
 * pattern compiled once, each API-destination target with its own invoker (api-destination.ts).
 */
export class EventBuses {
  private readonly buses = new Map<string, Bus>();
  private readonly invokers: ApiDestinationInvoker[] = [];

  constructor(private readonly requestTimeoutMs: number) {}

  /** Creates a bus, or returns the existing one of that name. */
  createEventBus(name: string, options: { description?: string } = {}): EventBusInfo {
    if (!NAME_PATTERN.test(name))
      throw new AwsServiceError('ValidationException', `Event bus name ${name} is not valid.`);
    const existing = this.buses.get(name);
    if (existing) return busInfo(existing);
    const bus: Bus = {
      name,
      arn: eventBusArn(name),
      creationTime: Date.now(),
      rules: new Map(),
      ...(options.description ? { description: options.description } : {}),
    };
    this.buses.set(name, bus);
    return busInfo(bus);
  }

  /** Creates or replaces a rule and its targets. */
  putRule(definition: RuleDefinition): RuleInfo {
    const busName = definition.eventBusName ?? DEFAULT_EVENT_BUS;
    const bus = this.requireBus(busName);
    if (!NAME_PATTERN.test(definition.name))
      throw new AwsServiceError('ValidationException', `Rule name ${definition.name} is not valid.`);
    const pattern = compilePattern(definition.eventPattern);
    if (definition.targets.length > MAX_TARGETS_PER_RULE) {
      throw new AwsServiceError('LimitExceededException', `A rule can have at most ${MAX_TARGETS_PER_RULE} targets.`);
    }
    const ids = new Set<string>();
    const targets = definition.targets.map((target) => {
      if (ids.has(target.id)) throw new AwsServiceError('ValidationException', `Duplicate target id ${target.id}.`);
      ids.add(target.id);
      return this.compileTarget(definition.name, target);
    });
    const rule: Rule = {
      name: definition.name,
      arn: ruleArn(busName, definition.name),
      eventBusName: busName,
      pattern,
      targets,
      ...(definition.description ? { description: definition.description } : {}),
    };
    bus.rules.set(rule.name, rule);
    return ruleInfo(rule);
  }

  private compileTarget(ruleName: string, target: RuleTarget): CompiledTarget {
    if (!/^[.\-_A-Za-z0-9]{1,64}$/.test(target.id))
      throw new AwsServiceError('ValidationException', `Target id ${target.id} is not valid.`);
    const retryPolicy = target.retryPolicy ?? DEFAULT_RETRY_POLICY;
    const { maximumRetryAttempts: attempts, maximumEventAgeSeconds: age } = retryPolicy;
    if (!Number.isInteger(attempts) || attempts < 0 || attempts > 185) {
      throw new AwsServiceError('ValidationException', 'RetryPolicy.MaximumRetryAttempts must be between 0 and 185.');
    }
    if (!Number.isInteger(age) || age < 60 || age > 86_400) {
      throw new AwsServiceError(
        'ValidationException',
        'RetryPolicy.MaximumEventAgeInSeconds must be between 60 and 86400.',
      );
    }
    if (target.kind === 'function') {
      return { definition: target, arn: lambdaFunctionArn(target.functionName), retryPolicy };
    }
    const rate = target.invocationRateLimitPerSecond;
    if (rate !== undefined && (!Number.isInteger(rate) || rate < 1 || rate > 300)) {
      throw new AwsServiceError('ValidationException', 'InvocationRateLimitPerSecond must be between 1 and 300.');
    }
    try {
      new URL(target.endpoint.replace(/\*/g, 'x'));
      new URL(target.connection.authorizationEndpoint);
    } catch {
      throw new AwsServiceError('ValidationException', `Target ${target.id} has an invalid endpoint URL.`);
    }
    const invoker = new ApiDestinationInvoker(target, { timeoutMs: this.requestTimeoutMs });
    this.invokers.push(invoker);
    return {
      definition: target,
      arn: apiDestinationArn(target.name ?? `${ruleName}-${target.id}`),
      retryPolicy,
      invoker,
    };
  }

  describeEventBus(name = DEFAULT_EVENT_BUS): EventBusInfo {
    return busInfo(this.requireBus(busNameOf(name)));
  }

  listRules(eventBusName = DEFAULT_EVENT_BUS): RuleInfo[] {
    return [...this.requireBus(busNameOf(eventBusName)).rules.values()]
      .map(ruleInfo)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  describeRule(name: string, eventBusName = DEFAULT_EVENT_BUS): RuleInfo {
    const busName = busNameOf(eventBusName);
    const rule = this.requireBus(busName).rules.get(name);
    if (!rule)
      throw new AwsServiceError('ResourceNotFoundException', `Rule ${name} does not exist on EventBus ${busName}.`);
    return ruleInfo(rule);
  }

  /** A bus by name, or undefined (PutEvents reports a missing bus per entry). */
  find(name: string): Bus | undefined {
    return this.buses.get(name);
  }

  requireBus(name: string): Bus {
    const bus = this.buses.get(name);
    if (!bus) throw new AwsServiceError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
    return bus;
  }

  /** The API destination invoker whose connection has this name (UpdateConnection / DescribeConnection). */
  connection(name: string): ApiDestinationInvoker {
    const invoker = this.invokers.find((candidate) => candidate.connectionName === name);
    if (!invoker)
      throw new AwsServiceError(
        'ResourceNotFoundException',
        `Failed to describe the connection(s). Connection '${name}' does not exist.`,
      );
    return invoker;
  }

  /** The API destination invoker of this name (DescribeApiDestination). */
  apiDestination(name: string): ApiDestinationInvoker {
    const invoker = this.invokers.find((candidate) => candidate.config.name === name);
    if (!invoker)
      throw new AwsServiceError('ResourceNotFoundException', `An api-destination '${name}' does not exist.`);
    return invoker;
  }

  /** Releases the API destinations' sockets. */
  async close(): Promise<void> {
    await Promise.all(this.invokers.map((invoker) => invoker.close()));
  }
}

export function compilePattern(pattern: string | object): EventPattern {
  try {
    return EventPattern.compile(pattern);
  } catch (error) {
    if (error instanceof InvalidEventPatternError)
      throw new AwsServiceError('InvalidEventPatternException', error.message);
    throw error;
  }
}

function busInfo(bus: Bus): EventBusInfo {
  return {
    name: bus.name,
    arn: bus.arn,
    creationTime: bus.creationTime,
    ...(bus.description ? { description: bus.description } : {}),
  };
}

function ruleInfo(rule: Rule): RuleInfo {
  return {
    name: rule.name,
    arn: rule.arn,
    eventBusName: rule.eventBusName,
    eventPattern: rule.pattern.source,
    ...(rule.description ? { description: rule.description } : {}),
    targets: rule.targets.map(targetInfo),
  };
}

function targetInfo(target: CompiledTarget): TargetInfo {
  const definition = target.definition;
  const info: TargetInfo = {
    id: definition.id,
    arn: target.arn,
    kind: definition.kind,
    retryPolicy: target.retryPolicy,
    ...(definition.deadLetter?.arn ? { deadLetterArn: definition.deadLetter.arn } : {}),
  };
  if (definition.kind === 'apiDestination') {
    if (definition.inputPath) info.inputPath = definition.inputPath;
    const http = {
      ...(definition.pathParameterValues ? { pathParameterValues: definition.pathParameterValues } : {}),
      ...(definition.headerParameters ? { headerParameters: definition.headerParameters } : {}),
      ...(definition.queryStringParameters ? { queryStringParameters: definition.queryStringParameters } : {}),
    };
    if (Object.keys(http).length > 0) info.httpParameters = http;
  }
  return info;
}
