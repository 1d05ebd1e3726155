import { DescribeAlarmsCommand, type CloudWatchClient, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { DescribeConnectionCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { carOrdersService } from '../car-orders/service.js';
import { alarmConstructId, type AlarmDeclaration } from '../shared/alarms.js';
import { tireOrdersEvents, tireOrdersService } from '../tire-orders/service.js';
import { OperatorError } from './errors.js';
import type { Company } from './locator.js';

/**
 * The declared alarms as operators see them, from a deployed stage (CloudWatch DescribeAlarms on the alarms its
 * stacks created, and the callback connection's state) or from the local runtime (which evaluates the same
 * declarations over what it counts: local/alarms.ts).
 */

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface AlarmView {
  company: Company;
  /** The declaration's key in the service's `alarms` (or callbackConnectionLost). */
  name: string;
  /** CloudWatch's alarm name on AWS; `<stage>-<company>-<name>` locally. */
  alarmName: string;
  description: string;
  state: AlarmState;
  reason: string;
  /** "AWS/SQS ApproximateNumberOfMessagesVisible". */
  metric: string;
  /** "Maximum >= 1 in 1 of 1 period(s) of 1 min". */
  condition: string;
  stateUpdatedAt: string;
  /** AWS: the alarm's actions (the stack's topic); locally none (the console prints the change instead). */
  actions: string[];
}

export const DECLARED_ALARMS: Record<Company, Record<string, AlarmDeclaration>> = {
  'car-orders': carOrdersService.alarms,
  'tire-orders': tireOrdersService.alarms,
};

export const CONNECTION_LOST_ALARM = 'callbackConnectionLost';

export function alarmCondition(declaration: AlarmDeclaration): string {
  return (
    `${declaration.statistic} >= ${declaration.threshold} in ${declaration.evaluationPeriods} of ` +
    `${declaration.evaluationPeriods} period(s) of ${declaration.periodMinutes} min`
  );
}

/** What the stack locator knows of a stack: its resources by logical id. */
export interface StackResources {
  physicalIdMatching(company: Company, logicalId: RegExp, type: string): Promise<string | undefined>;
}

/**
 * A deployed stage's alarms: each declared alarm found in its stack by construct id (the logical id is that plus a
 * hash), read with DescribeAlarms; the callback connection's authorization with DescribeConnection.
 */
export async function stageAlarms(
  companies: Company[],
  stack: StackResources,
  clients: { cloudWatch: CloudWatchClient; events: EventBridgeClient },
): Promise<AlarmView[]> {
  const views: AlarmView[] = [];
  for (const company of companies) {
    const declared = Object.entries(DECLARED_ALARMS[company]);
    const names = await Promise.all(
      declared.map(([key]) =>
        stack.physicalIdMatching(
          company,
          new RegExp(`^${alarmConstructId(key)}[0-9A-F]{8}$`),
          'AWS::CloudWatch::Alarm',
        ),
      ),
    );
    const found = names.filter((name): name is string => name !== undefined);
    const alarms = found.length > 0 ? await describeAlarms(clients.cloudWatch, found) : new Map<string, MetricAlarm>();
    declared.forEach(([key, declaration], index) => {
      const alarmName = names[index];
      const alarm = alarmName === undefined ? undefined : alarms.get(alarmName);
      views.push(alarmViewOf(company, key, declaration, alarmName, alarm));
    });
    if (company === 'tire-orders') views.push(await connectionView(stack, clients.events));
  }
  return views;
}

async function describeAlarms(client: CloudWatchClient, alarmNames: string[]): Promise<Map<string, MetricAlarm>> {
  try {
    const result = await client.send(new DescribeAlarmsCommand({ AlarmNames: alarmNames, MaxRecords: 100 }));
    return new Map((result.MetricAlarms ?? []).map((alarm) => [alarm.AlarmName ?? '', alarm]));
  } catch (error) {
    throw new OperatorError(`DescribeAlarms failed: ${(error as Error).message}`);
  }
}

function alarmViewOf(
  company: Company,
  key: string,
  declaration: AlarmDeclaration,
  alarmName: string | undefined,
  alarm: MetricAlarm | undefined,
): AlarmView {
  return {
    company,
    name: key,
    alarmName: alarmName ?? '(not deployed)',
    description: declaration.description,
    state: (alarm?.StateValue as AlarmState | undefined) ?? 'INSUFFICIENT_DATA',
    reason: alarm?.StateReason ?? (alarmName ? 'DescribeAlarms did not return it' : 'the stack has no such alarm'),
    metric: alarm ? `${alarm.Namespace ?? ''} ${alarm.MetricName ?? ''}` : '',
    condition: alarmCondition(declaration),
    stateUpdatedAt: alarm?.StateUpdatedTimestamp?.toISOString() ?? '',
    actions: alarm?.AlarmActions ?? [],
  };
}

/** The callback connection's state: what the default-bus rule alerts on when it changes. */
async function connectionView(stack: StackResources, events: EventBridgeClient): Promise<AlarmView> {
  const declared = tireOrdersEvents.completionCallback.connectionLost;
  const name = await stack.physicalIdMatching(
    'tire-orders',
    /^CarMakerConnection[0-9A-F]{8}$/,
    'AWS::Events::Connection',
  );
  const base = {
    company: 'tire-orders' as const,
    name: CONNECTION_LOST_ALARM,
    description: declared.description,
    metric: `aws.events ${declared.detailTypes.join(' | ')}`,
    condition: 'a connection state event (EventBridge rule on the default bus)',
    actions: [],
  };
  if (!name)
    return {
      ...base,
      alarmName: '(not deployed)',
      state: 'INSUFFICIENT_DATA',
      reason: 'no connection',
      stateUpdatedAt: '',
    };
  // CloudFormation's physical id of a connection is its name.
  const connection = await events.send(new DescribeConnectionCommand({ Name: name })).catch((error: Error) => {
    throw new OperatorError(`DescribeConnection ${name} failed: ${error.message}`);
  });
  const state = connection.ConnectionState ?? 'UNKNOWN';
  return {
    ...base,
    alarmName: name,
    state: state === 'AUTHORIZED' || state === 'ACTIVE' ? 'OK' : state === 'UNKNOWN' ? 'INSUFFICIENT_DATA' : 'ALARM',
    reason: `${state}${connection.StateReason ? `: ${connection.StateReason}` : ''}`,
    stateUpdatedAt: connection.LastModifiedTime?.toISOString() ?? '',
  };
}
