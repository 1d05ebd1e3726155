import { describeLambdaEnvironments, type LambdaEnvironmentsView } from '../../client/local-operations.js';
import { OperatorError, type CommandContext, type CommandResult, type CommandSpec } from '../command.js';
import { table } from '../output.js';

/**
 * `b2b lambdas`: the local runtime's Lambda execution environments per function: the cap (the cores unless
 * B2B_LAMBDA_MAX_ENVIRONMENTS says otherwise), how many are busy, idle and initialising, the invocations queued for
 * one now, the longest queue wait so far and the cold starts (pre-warmed environments included). On AWS, Lambda
 * shows no execution environments; its ConcurrentExecutions and Throttles metrics are in CloudWatch.
 */

const LAMBDA_HAS_NO_ENVIRONMENT_VIEW =
  'Lambda does not expose its execution environments; see the ConcurrentExecutions, Throttles and Init Duration ' +
  "figures of the stage's functions in CloudWatch instead.";

export interface LambdasResult {
  source: string;
  functions: LambdaEnvironmentsView[];
  queued: number;
}

export async function readLambdas(context: CommandContext): Promise<LambdasResult> {
  const target = await context.target();
  if (!target.local) throw new OperatorError(LAMBDA_HAS_NO_ENVIRONMENT_VIEW);
  const functions = await describeLambdaEnvironments(target.local);
  return { source: target.label, functions, queued: functions.reduce((sum, fn) => sum + fn.queued, 0) };
}

function human(result: LambdasResult): string[] {
  return [
    `${result.functions.length} function(s) of ${result.source}; ${result.queued} invocation(s) queued now`,
    '',
    ...table(result.functions, [
      { header: 'COMPANY', value: (f) => f.company },
      { header: 'FUNCTION', value: (f) => f.function },
      { header: 'CAP', value: (f) => f.cap },
      { header: 'ENVS', value: (f) => f.environments },
      { header: 'BUSY', value: (f) => f.busy },
      { header: 'IDLE', value: (f) => f.idle },
      { header: 'INIT', value: (f) => f.initialising },
      { header: 'COLD STARTS', value: (f) => f.coldStarts },
      { header: 'QUEUED', value: (f) => f.queued },
      { header: 'MAX QUEUE WAIT', value: (f) => `${f.maxQueueWaitMs} ms` },
    ]),
  ];
}

export const lambdasCommand: CommandSpec = {
  path: ['lambdas'],
  summary: "Show the local runtime's Lambda execution environments per function (local runtime only)",
  description: [
    'Per function: the cap on environments, how many are busy, idle and initialising, invocations queued now,',
    'the longest queue wait and the cold starts. Past the cap invocations queue (they are not throttled locally).',
  ],
  options: {},
  examples: ['b2b lambdas', 'b2b lambdas --json'],
  async run(context: CommandContext): Promise<CommandResult> {
    const result = await readLambdas(context);
    return { data: result, human: human(result) };
  },
};
