import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { carOrdersService } from '../car-orders/service.js';
import { alarmCondition, CONNECTION_LOST_ALARM, type AlarmState, type AlarmView } from '../client/alarms.js';
import type { TimedAuditEntry } from '../client/audit.js';
import { ALARM_METRICS, type AlarmDeclaration, type AlarmMetric } from '../shared/alarms.js';
import { tireOrdersEvents, tireOrdersService } from '../tire-orders/service.js';
import type { AuditLog } from './audit.js';

/**
 * The declared alarms (car-orders/service.ts, tire-orders/service.ts `alarms`), evaluated over what the local runtime
 * already counts, the way CloudWatch evaluates them: each of the last `evaluationPeriods` periods (emulated minutes,
 * at the runtime's time scale) must reach the threshold. The measures:
 *
 * - deadLetterQueueDepth: the callback dead-letter queue's visible messages now (SQS ApproximateNumberOfMessages).
 * - functionErrors: the function's `invocation` audit entries that did not end ok (Lambda Errors: errors, timeouts).
 * - callbackFailedInvocations: the callback rule's deliveries given up (`dead-lettered`), as FailedInvocations.
 * - callbackInvocationsFailedToBeSentToDlq: of those, the ones the dead-letter queue refused (delivery.ts says so in
 *   the entry's error: "sending to the dead-letter queue failed").
 * - api5xx / api429: the company's `request` audit entries with that status (the gateway records every answer).
 *
 * And the connection's authorization (on AWS a default-bus rule on EventBridge's "Connection Deauthorized"): ALARM
 * while the callback's latest attempt failed because the car maker's token endpoint refused the connection's
 * credentials (api-destination.ts: "Connection authorization failed: authorization endpoint answered 4xx"), OK once
 * a delivery succeeds again. Every change of state is an `alarm` audit entry, which `npm start` prints.
 */

export interface LocalAlarmSources {
  /** The runtime's audit entries, oldest first. */
  audit: AuditLog;
  /** Visible messages in the completion callback's dead-letter queue. */
  deadLetterQueueDepth: () => number;
  /** The callback rule's (local) name, as delivery entries carry it. */
  callbackRule: string;
  stage: string;
  /** Real ms per emulated ms (the runtime's time scale): a 5-minute period lasts 15 s at 0.05. */
  timeScale: number;
  now?: () => number;
}

type Company = AlarmView['company'];

interface Declared {
  company: Company;
  key: string;
  declaration: AlarmDeclaration;
}

const DECLARED: Declared[] = [
  ...Object.entries(carOrdersService.alarms).map(([key, declaration]) => ({
    company: 'car-orders' as const,
    key,
    declaration: declaration as AlarmDeclaration,
  })),
  ...Object.entries(tireOrdersService.alarms).map(([key, declaration]) => ({
    company: 'tire-orders' as const,
    key,
    declaration: declaration as AlarmDeclaration,
  })),
];

const AUTHORIZATION_REFUSED = /Connection authorization failed: authorization endpoint answered 4\d\d/;
const DLQ_REFUSED = /^sending to the dead-letter queue failed/;

export class LocalAlarms {
  private readonly states = new Map<string, { state: AlarmState; since: string }>();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly trail: AuditTail;

  constructor(private readonly sources: LocalAlarmSources) {
    this.now = sources.now ?? Date.now;
    const longestMinutes = Math.max(...DECLARED.map(({ declaration: d }) => d.periodMinutes * d.evaluationPeriods));
    this.trail = new AuditTail(sources.audit.path, longestMinutes * 60_000 * sources.timeScale, sources.callbackRule);
  }

  /** Every alarm's state now; a change of state since the last evaluation is recorded in the audit trail. */
  evaluate(): AlarmView[] {
    const entries = this.trail.read(this.now());
    const views = [...DECLARED.map((declared) => this.metricAlarm(declared, entries)), this.connectionAlarm()];
    for (const view of views) this.record(view);
    return views.map((view) => ({ ...view, stateUpdatedAt: this.states.get(this.idOf(view))!.since }));
  }

  /** Evaluates every `intervalMs` (real time) until stop(). */
  start(intervalMs: number): void {
    this.timer = setInterval(() => this.evaluate(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private idOf(view: Pick<AlarmView, 'company' | 'name'>): string {
    return `${view.company}/${view.name}`;
  }

  private record(view: AlarmView): void {
    const id = this.idOf(view);
    const previous = this.states.get(id);
    if (previous?.state === view.state) return;
    this.states.set(id, { state: view.state, since: new Date(this.now()).toISOString() });
    // The first evaluation sets the baseline; only an alarm that starts in ALARM is worth a line then.
    if (previous || view.state === 'ALARM') {
      this.sources.audit.append({
        kind: 'alarm',
        company: view.company,
        alarm: view.name,
        state: view.state,
        previousState: previous?.state ?? 'OK',
        reason: view.reason,
      });
    }
  }

  private metricAlarm({ company, key, declaration }: Declared, entries: TimedAuditEntry[]): AlarmView {
    const periodMs = declaration.periodMinutes * 60_000 * this.sources.timeScale;
    const now = this.now();
    const values = Array.from({ length: declaration.evaluationPeriods }, (_, index) => {
      const end = now - index * periodMs;
      return this.valueIn(company, declaration.metric, declaration.statistic, entries, end - periodMs, end);
    });
    const breaching = values.every((value) => value >= declaration.threshold);
    const { namespace, metricName } = ALARM_METRICS[declaration.metric.kind];
    const periods = values.map(String).join(', ');
    return {
      company,
      name: key,
      alarmName: `${this.sources.stage}-${company}-${key}`,
      description: declaration.description,
      state: breaching ? 'ALARM' : 'OK',
      reason:
        `${declaration.statistic} over the last ${declaration.evaluationPeriods} period(s) of ` +
        `${declaration.periodMinutes} min: [${periods}] ${breaching ? '>=' : 'not all >='} ${declaration.threshold}`,
      metric: `${namespace} ${metricName}`,
      condition: alarmCondition(declaration),
      actions: [],
      stateUpdatedAt: '',
    };
  }

  /** The declared statistic of one metric over (start, end] of real time. */
  private valueIn(
    company: Company,
    metric: AlarmMetric,
    statistic: AlarmDeclaration['statistic'],
    entries: TimedAuditEntry[],
    start: number,
    end: number,
  ): number {
    // A gauge: sampled now (the local queue keeps no history), the same for every period.
    if (metric.kind === 'deadLetterQueueDepth') return this.sources.deadLetterQueueDepth();
    const count = entries.filter((entry) => {
      const time = Date.parse(entry.time);
      return time > start && time <= end && this.counts(company, metric, entry);
    }).length;
    // Each counted entry is a datapoint of 1: their Sum is the count, their Maximum 1 when there is any.
    return statistic === 'Sum' ? count : Math.min(count, 1);
  }

  private counts(company: Company, metric: AlarmMetric, entry: TimedAuditEntry): boolean {
    switch (metric.kind) {
      case 'functionErrors':
        return (
          entry.kind === 'invocation' &&
          entry.company === company &&
          entry.function === metric.function &&
          entry.outcome !== 'ok'
        );
      case 'callbackFailedInvocations':
        return (
          entry.kind === 'delivery' && entry.rule === this.sources.callbackRule && entry.outcome === 'dead-lettered'
        );
      case 'callbackInvocationsFailedToBeSentToDlq':
        return (
          entry.kind === 'delivery' &&
          entry.rule === this.sources.callbackRule &&
          entry.outcome === 'dead-lettered' &&
          DLQ_REFUSED.test(entry.error ?? '')
        );
      case 'api5xx':
        return entry.kind === 'request' && entry.company === company && entry.status >= 500;
      case 'api429':
        return entry.kind === 'request' && entry.company === company && entry.status === 429;
      default:
        return false;
    }
  }

  private connectionAlarm(): AlarmView {
    const latest = this.trail.latestCallbackDelivery;
    const refused =
      latest !== undefined && latest.outcome !== 'delivered' && AUTHORIZATION_REFUSED.test(latest.error ?? '');
    const declared = tireOrdersEvents.completionCallback.connectionLost;
    return {
      company: 'tire-orders',
      name: CONNECTION_LOST_ALARM,
      alarmName: `${this.sources.stage}-tire-orders-${CONNECTION_LOST_ALARM}`,
      description: declared.description,
      state: refused ? 'ALARM' : 'OK',
      reason: refused
        ? `DEAUTHORIZED: ${latest.error ?? ''}`
        : 'AUTHORIZED (no callback attempt was refused by the token endpoint since the last success)',
      metric: `aws.events ${declared.detailTypes.join(' | ')}`,
      condition: 'a connection state event (EventBridge rule on the default bus)',
      actions: [],
      stateUpdatedAt: '',
    };
  }
}

type DeliveryEntry = Extract<TimedAuditEntry, { kind: 'delivery' }>;

/**
 * The audit trail as the alarms need it, read incrementally (a long-running runtime's file grows without bound): the
 * entries of the longest evaluated window, and the callback rule's latest delivery attempt however old.
 */
class AuditTail {
  private offset = 0;
  private partial = '';
  private recent: TimedAuditEntry[] = [];
  latestCallbackDelivery: DeliveryEntry | undefined;

  constructor(
    private readonly path: string,
    private readonly windowMs: number,
    private readonly callbackRule: string,
  ) {}

  read(now: number): TimedAuditEntry[] {
    for (const line of this.newLines()) {
      let entry: TimedAuditEntry;
      try {
        entry = JSON.parse(line) as TimedAuditEntry;
      } catch {
        continue; // a line being written; the audit log appends whole lines
      }
      if (entry.kind === 'alarm') continue;
      if (entry.kind === 'delivery' && entry.rule === this.callbackRule) this.latestCallbackDelivery = entry;
      this.recent.push(entry);
    }
    this.recent = this.recent.filter((entry) => Date.parse(entry.time) > now - this.windowMs);
    return this.recent;
  }

  private newLines(): string[] {
    let size: number;
    try {
      size = statSync(this.path).size;
    } catch {
      return [];
    }
    if (size < this.offset) this.offset = 0; // replaced (a fresh state directory)
    if (size === this.offset) return [];
    const buffer = Buffer.alloc(size - this.offset);
    const fd = openSync(this.path, 'r');
    try {
      readSync(fd, buffer, 0, buffer.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset = size;
    const lines = (this.partial + buffer.toString('utf8')).split('\n');
    this.partial = lines.pop() ?? '';
    return lines.filter(Boolean);
  }
}
