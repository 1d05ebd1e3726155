import type { AlarmView } from '../../client/alarms.js';
import { booleanOption, type CommandContext, type CommandResult, type CommandSpec } from '../command.js';
import { table } from '../output.js';

/**
 * `b2b alarms`: the declared alarms (car-orders/service.ts, tire-orders/service.ts) and their state. On a deployed
 * stage CloudWatch's (DescribeAlarms on the alarms the stacks created, and the callback connection's state); on the
 * local runtime its own evaluation of the same declarations over what it counts.
 */

export interface AlarmsResult {
  source: string;
  alarms: AlarmView[];
  inAlarm: number;
}

export async function readAlarms(context: CommandContext, onlyInAlarm: boolean): Promise<AlarmsResult> {
  const target = await context.target();
  const all = await target.resources.alarms();
  const alarms = onlyInAlarm ? all.filter((alarm) => alarm.state === 'ALARM') : all;
  return { source: target.label, alarms, inAlarm: all.filter((alarm) => alarm.state === 'ALARM').length };
}

function human(result: AlarmsResult): string[] {
  const lines = [
    `${result.alarms.length} alarm(s) of ${result.source}; ${result.inAlarm} in ALARM`,
    '',
    ...table(result.alarms, [
      { header: 'STATE', value: (a) => a.state },
      { header: 'COMPANY', value: (a) => a.company },
      { header: 'ALARM', value: (a) => a.name },
      { header: 'CONDITION', value: (a) => a.condition, max: 48 },
      { header: 'SINCE', value: (a) => a.stateUpdatedAt },
      { header: 'REASON', value: (a) => a.reason, max: 100 },
    ]),
  ];
  for (const alarm of result.alarms.filter((a) => a.state === 'ALARM')) {
    lines.push('', `${alarm.company}/${alarm.name}: ${alarm.description}`, `  ${alarm.metric}: ${alarm.reason}`);
  }
  return lines;
}

export const alarmsCommand: CommandSpec = {
  path: ['alarms'],
  summary: 'The declared alarms and their state (exit code 1 when one is in ALARM)',
  description: [
    'Every alarm the services declare: the DLQ depth, supplier token refresh errors, the callback rule failing or',
    "losing events, 5xx and 429 on both APIs, and the callback connection's authorization.",
    'On a deployed stage from CloudWatch (and the connection state from EventBridge); locally the runtime evaluates',
    'the same declarations over what it counts (the dead-letter queue, its audit trail).',
  ],
  options: {
    'in-alarm': { type: 'boolean', description: 'Only the alarms in ALARM' },
  },
  examples: ['b2b alarms', 'b2b alarms --in-alarm --json', 'b2b alarms --stage prod'],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const result = await readAlarms(context, booleanOption(input, 'in-alarm'));
    return { data: result, human: human(result), exitCode: result.inAlarm > 0 ? 1 : 0 };
  },
};
